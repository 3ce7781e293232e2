package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

// TestTemplateRevisionsBackfill: a database made before template revisions
// gets revision 1 of each template as it stood, and its requests pin it.
func TestTemplateRevisionsBackfill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "purser.db")
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	fsys, _ := fs.Sub(migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectSQLite3, raw, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 5); err != nil {
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

	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sys := purser.SystemContext(ctx)
	r, err := sqldb.NewRequestService(s.DB).FindRequestByID(sys, "r1")
	if err != nil || r.TemplateRevision != 1 {
		t.Fatalf("old request: %+v %v, want revision 1", r, err)
	}
	tpl, err := sqldb.NewTemplateService(s.DB).FindTemplateRevision(sys, "old", 1)
	if err != nil || tpl.Name != "Old" || tpl.Config["delay"] != "1s" {
		t.Fatalf("revision 1 of the old template: %+v %v", tpl, err)
	}
	if cur, err := sqldb.NewTemplateService(s.DB).FindTemplateByID(sys, "old"); err != nil || cur.Revision != 1 {
		t.Fatalf("old template: %+v %v", cur, err)
	}
}
