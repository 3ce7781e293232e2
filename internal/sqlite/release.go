//go:build !purser_upgradetest

package sqlite

import (
	"io/fs"

	"github.com/pressly/goose/v3"
)

// extraMigrations is the Go migrations run after the embedded SQL ones:
// none in a release build. (The purser_upgradetest build tag, for tests
// only, adds one: upgradetest.go.)
func extraMigrations(fs.FS) []*goose.Migration { return nil }
