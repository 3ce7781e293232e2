package postgres

import (
	"context"
	"database/sql"
	"io/fs"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/purserhq/purser/internal/sqldb"
	"github.com/purserhq/purser/internal/storetest"
)

// TestTemplateRevisionsBackfill: a database made before template revisions
// gets revision 1 of each template as it stood, and its requests pin it.
func TestTemplateRevisionsBackfill(t *testing.T) {
	t.Parallel()
	url := storetest.PostgresURL(t)
	if url == "" {
		t.Skip("PURSER_TEST_POSTGRES_URL is not set (.ci/run always sets it)")
	}
	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	fsys, _ := fs.Sub(migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectPostgres, raw, fsys)
	if err != nil {
		t.Fatal(err)
	}
	upTo := func(ctx context.Context, v int64) error { _, err := p.UpTo(ctx, v); return err }
	storetest.TemplateRevisionsBackfill(t, raw, upTo, func() *sqldb.DB {
		s, err := Open(context.Background(), url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s.DB
	})
}

// TestNewerSchemaRefused: an older binary on a database a newer Purser
// migrated refuses to open it, naming both versions, and changes nothing.
func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	url := storetest.PostgresURL(t)
	if url == "" {
		t.Skip("PURSER_TEST_POSTGRES_URL is not set (.ci/run always sets it)")
	}
	open := func() error {
		s, err := Open(context.Background(), url, nil)
		if err == nil {
			s.Close()
		}
		return err
	}
	if err := open(); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	storetest.NewerSchemaRefused(t, raw, open)
}
