//go:build purser_upgradetest

package sqlite

import (
	"context"
	"database/sql"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// extraMigrations makes the "new" binary of the rolling-upgrade test
// (cmd/purser TestRollingUpgrade): built with -tags purser_upgradetest, it
// is this Purser plus one additive migration numbered after the newest it
// embeds (a column and a table no query of the older binary names), the
// shape of a real release's next migration. Only that test builds with the
// tag; release builds compile release.go instead, so this file and its
// migration are never in a shipped binary.
func extraMigrations(fsys fs.FS) []*goose.Migration {
	names, _ := fs.Glob(fsys, "*.sql")
	var newest int64
	for _, n := range names {
		if v, err := goose.NumericComponent(n); err == nil {
			newest = max(newest, v)
		}
	}
	return []*goose.Migration{goose.NewGoMigration(newest+1, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "ALTER TABLE requests ADD COLUMN upgrade_note TEXT"); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "CREATE TABLE upgrade_probes (id TEXT PRIMARY KEY, note TEXT NOT NULL DEFAULT '')")
		return err
	}}, nil)}
}
