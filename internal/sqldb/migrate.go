package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
)

// SchemaError is the refusal to open a database that a newer Purser has
// migrated: its schema has migrations this binary does not know. Nothing
// was changed when it is returned.
type SchemaError struct {
	// Database is the newest migration applied to the database, Known the
	// newest this binary embeds, Unknown the applied ones it does not know.
	Database, Known int64
	Unknown         []int64
}

func (e *SchemaError) Error() string {
	if e.Database > e.Known {
		return fmt.Sprintf("the database is at schema %d, this purser knows up to %d: it was upgraded by a newer Purser; run that version or newer (migrations only go forward)",
			e.Database, e.Known)
	}
	vs := make([]string, len(e.Unknown))
	for i, v := range e.Unknown {
		vs[i] = strconv.FormatInt(v, 10)
	}
	noun := "migration"
	if len(vs) > 1 {
		noun = "migrations"
	}
	return fmt.Sprintf("the database has schema %s %s, which this purser does not know (it knows up to %d): it was upgraded by a newer Purser; run that version or newer (migrations only go forward)",
		noun, strings.Join(vs, ", "), e.Known)
}

// Migrate brings the schema of db forward to the newest of the SQL
// migrations in fsys and the Go migrations extra (empty in release builds:
// see the engines' upgradetest.go). It only ever migrates up: if the
// database has a migration this binary does not know, a newer Purser
// migrated it, and Migrate returns a *SchemaError without changing
// anything. The caller serialises concurrent callers (PostgreSQL holds an
// advisory lock around it; SQLite has one process per file).
func Migrate(ctx context.Context, dialect goose.Dialect, db *sql.DB, fsys fs.FS, extra ...*goose.Migration) error {
	p, err := goose.NewProvider(dialect, db, fsys, goose.WithDisableGlobalRegistry(true), goose.WithGoMigrations(extra...))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if err := checkSchema(ctx, dialect, db, p); err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// checkSchema returns a *SchemaError if the database has an applied
// migration that p does not know.
func checkSchema(ctx context.Context, dialect goose.Dialect, db *sql.DB, p *goose.Provider) error {
	// GetDBVersion creates goose's version table on a new database (which
	// Up would do anyway), so that the list below has a table to read.
	if _, err := p.GetDBVersion(ctx); err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	store, err := database.NewStore(dialect, goose.DefaultTablename)
	if err != nil {
		return err
	}
	applied, err := store.ListMigrations(ctx, db) // newest row first
	if err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	known := map[int64]bool{0: true}
	e := &SchemaError{}
	for _, s := range p.ListSources() {
		known[s.Version] = true
		e.Known = max(e.Known, s.Version)
	}
	seen := map[int64]bool{}
	for _, m := range applied {
		if seen[m.Version] {
			continue
		}
		seen[m.Version] = true
		if !m.IsApplied {
			continue
		}
		e.Database = max(e.Database, m.Version)
		if !known[m.Version] {
			e.Unknown = append(e.Unknown, m.Version)
		}
	}
	if len(e.Unknown) == 0 {
		return nil
	}
	slices.Sort(e.Unknown)
	return e
}
