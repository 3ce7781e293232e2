package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
)

// checkDataDir makes the data directory private to its owner (0700, or
// 0711 where the exec driver's run-as user must pass through it),
// tightening an existing one that others may read or write, and refuses to start on what
// looks like a lost database: an empty SQLite file beside the secret key of
// an instance that already ran. Starting there would bootstrap a brand-new
// instance, with a new admin, over the lost one.
func checkDataDir(cfg Config, logger *slog.Logger) error {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	// Others may keep the right to pass through (0711): the exec driver's
	// run-as user needs it to reach its work directory (see openDataDir).
	if st, err := os.Stat(cfg.DataDir); err == nil && st.Mode().Perm()&0o066 != 0 {
		if err := os.Chmod(cfg.DataDir, st.Mode().Perm()&^0o066); err != nil {
			logger.Warn("the data directory is open to others and cannot be made private", "path", cfg.DataDir, "mode", st.Mode().Perm().String(), "error", err)
		} else {
			logger.Warn("the data directory was open to others; made it private", "path", cfg.DataDir, "mode", st.Mode().Perm().String())
		}
	}
	if cfg.IsPostgres() {
		return nil
	}
	key := filepath.Join(cfg.DataDir, "secret.key")
	if _, err := os.Stat(key); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	db := cfg.SQLitePath()
	if st, err := os.Stat(db); err == nil && st.Size() == 0 {
		return fmt.Errorf("%s is empty but %s exists: this instance ran before and its database looks lost. "+
			"Restore %s from a backup; or, to start over as a new instance, delete both files", db, key, filepath.Base(db))
	}
	return nil
}
