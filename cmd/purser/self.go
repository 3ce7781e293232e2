package main

import (
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
)

// selfCommand is how the person who started this binary runs it again from
// where they are, for the commands the server prints: "purser" when that
// is this binary on PATH, the path they used from the working directory
// (./bin/purser after `make run`), or "go run ./cmd/purser" for a binary
// that `go run` built in a temporary directory.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "purser"
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	if p, err := osexec.LookPath("purser"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil && r == exe {
			return "purser"
		}
	}
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		return "go run ./cmd/purser"
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, exe); err == nil && !strings.HasPrefix(rel, "..") {
			return "." + string(filepath.Separator) + rel
		}
	}
	return exe
}
