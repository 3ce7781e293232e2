package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

// TemplateRevisionsBackfill checks that a database made before template
// revisions (migrated by upTo to version 5 through raw) gets revision 1 of
// each template as it stood, and that its requests pin it, once open has
// migrated it to the latest version. Each engine's tests call it with its
// own migrations, since the suite's Opener always migrates to the latest.
func TemplateRevisionsBackfill(t *testing.T, raw *sql.DB, upTo func(ctx context.Context, version int64) error, open func() *sqldb.DB) {
	t.Helper()
	ctx := context.Background()
	if err := upTo(ctx, 5); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO users (id, username, created_at, updated_at) VALUES ('u1', 'dev', 1, 1)`,
		`INSERT INTO templates (id, name, driver, resource_type, spec, created_at, updated_at) VALUES ('old', 'Old', 'sim', 'KUBERNETES', '{"config":{"delay":"1s"}}', 1, 2)`,
		`INSERT INTO requests (id, expires_by, requested_by, resource_type, resource_template, resource_parameters, request_type, status, created_at, updated_at)
			VALUES ('r1', 9, 'u1', 'KUBERNETES', 'old', '{}', 'TEMPORARY', 'APPROVED', 1, 1)`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	db := open()
	sys := purser.SystemContext(ctx)
	r, err := sqldb.NewRequestService(db).FindRequestByID(sys, "r1")
	if err != nil || r.TemplateRevision != 1 {
		t.Fatalf("old request: %+v %v, want revision 1", r, err)
	}
	tpl, err := sqldb.NewTemplateService(db).FindTemplateRevision(sys, "old", 1)
	if err != nil || tpl.Name != "Old" || tpl.Config["delay"] != "1s" {
		t.Fatalf("revision 1 of the old template: %+v %v", tpl, err)
	}
	if cur, err := sqldb.NewTemplateService(db).FindTemplateByID(sys, "old"); err != nil || cur.Revision != 1 {
		t.Fatalf("old template: %+v %v", cur, err)
	}
}

// NewerSchemaRefused checks that a database migrated by a newer Purser (here:
// goose's table records a migration 99999 this binary does not know) is
// refused by open with a *sqldb.SchemaError naming both versions, and that
// the refusal changed nothing: no Purser migration, no River migration (the
// newest River migration, removed beforehand, is still missing after). raw
// is a connection to the database open has already migrated once.
func NewerSchemaRefused(t *testing.T, raw *sql.DB, open func() error) {
	t.Helper()
	ctx := context.Background()
	count := func(q string) (n int64) {
		t.Helper()
		if err := raw.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	known := count("SELECT MAX(version_id) FROM goose_db_version")
	for _, q := range []string{
		"INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, true)",
		"DELETE FROM river_migration WHERE version = (SELECT MAX(version) FROM river_migration)",
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	gooseRows, riverRows := count("SELECT COUNT(*) FROM goose_db_version"), count("SELECT COUNT(*) FROM river_migration")

	err := open()
	var se *sqldb.SchemaError
	if !errors.As(err, &se) {
		t.Fatalf("open a database at schema 99999 = %v, want a *sqldb.SchemaError", err)
	}
	want := fmt.Sprintf("the database is at schema 99999, this purser knows up to %d: it was upgraded by a newer Purser; run that version or newer", known)
	if se.Database != 99999 || se.Known != known || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("refusal = %q (%+v), want it to start %q", err, se, want)
	}
	if g, r := count("SELECT COUNT(*) FROM goose_db_version"), count("SELECT COUNT(*) FROM river_migration"); g != gooseRows || r != riverRows {
		t.Errorf("the refusal changed the schema: goose rows %d -> %d, River migrations %d -> %d", gooseRows, g, riverRows, r)
	}
}
