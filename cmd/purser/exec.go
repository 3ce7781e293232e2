package main

import (
	"encoding/base64"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/driver/exec"
)

// execDriver makes the exec driver, telling it the server's secrets so
// that no command's output shows them. A driver that cannot run commands
// safely is logged once here and refuses every call, but the server runs.
func execDriver(cfg Config, key []byte, logger *slog.Logger) *exec.Driver {
	x := cfg.Exec
	workDir := x.WorkDir
	if workDir == "" { // a Config not made by LoadConfig
		workDir, _ = x.absWorkDir(cfg.DataDir)
	}
	if x.RunAs != "" {
		if err := openDataDir(cfg.DataDir, workDir); err != nil {
			logger.Warn("exec work directory unreachable", "data_dir", cfg.DataDir, "err", err)
		}
	}
	d := exec.New(exec.Config{WorkDir: workDir, TemplatesDir: x.TemplatesDir, Concurrency: x.Concurrency, Env: x.Env,
		RunAs: x.RunAs, Redact: serverSecrets(cfg, key)})
	if err := d.Disabled(); err != nil {
		logger.Warn("exec driver disabled", "reason", purser.ErrorMessage(err))
	}
	return d
}

// openDataDir lets the run-as user traverse the data directory to a work
// directory inside it: the directory becomes 0711 (others may pass, not
// list), and so that passing shows them nothing, every entry in it loses
// its group and other permissions, and the server's umask becomes 077 for
// the files it makes later (the SQLite database on a first start).
func openDataDir(dataDir, workDir string) error {
	data, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}
	if rel, err := filepath.Rel(data, workDir); err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return nil // outside: the operator made it reachable
	}
	syscall.Umask(0o077)
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	entries, err := os.ReadDir(data)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := filepath.Join(data, e.Name())
		if fi, err := os.Lstat(p); err == nil && fi.Mode()&os.ModeSymlink == 0 && p != workDir {
			if err := os.Chmod(p, fi.Mode().Perm()&^0o077); err != nil {
				return err
			}
		}
	}
	return os.Chmod(data, 0o711)
}

// serverSecrets are the configuration's secrets, as they could appear in
// a command's output.
func serverSecrets(cfg Config, key []byte) []string {
	s := []string{cfg.BootstrapToken, cfg.SecretKey, cfg.SMTP.Password, base64.StdEncoding.EncodeToString(key)}
	for _, k := range strings.Split(cfg.SecretKeyPrevious, ",") {
		s = append(s, strings.TrimSpace(k))
	}
	if u, err := url.Parse(cfg.Database); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok {
			s = append(s, p, url.QueryEscape(p), url.PathEscape(p))
		}
	}
	return s
}
