package sqldb_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/sqldb"
)

// TestMigrationsForwardOnly: Purser never migrates a database down. The
// migration files keep their `-- +goose Down` sections (as a record of what
// each one added), so the rule is checked where it can be broken: no Go
// file of the module outside tests that imports goose calls one of its
// down operations (Down, DownTo, Reset, Redo, ApplyVersion, which can go
// either way, or the legacy Run with a command).
func TestMigrationsForwardOnly(t *testing.T) {
	down := regexp.MustCompile(`\.(Down|DownTo|DownContext|DownToContext|Reset|ResetContext|Redo|RedoContext|ApplyVersion|Run|RunContext|RunWithOptions|RunWithOptionsContext)\(`)
	root := filepath.Join("..", "..")
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !strings.Contains(string(src), `"github.com/pressly/goose/v3`) {
			return nil
		}
		checked++
		for i, line := range strings.Split(string(src), "\n") {
			if down.MatchString(line) {
				t.Errorf("%s:%d: %s: migrations only go forward (docs/operations.md, Upgrades)", path, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 3 { // sqldb/migrate.go and the engines' release.go at least
		t.Fatalf("found %d Go files importing goose; the walk is broken", checked)
	}
}

func TestSchemaErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		err  sqldb.SchemaError
		want string
	}{
		{sqldb.SchemaError{Database: 31, Known: 27, Unknown: []int64{28, 29, 30, 31}},
			"the database is at schema 31, this purser knows up to 27: it was upgraded by a newer Purser; run that version or newer (migrations only go forward)"},
		{sqldb.SchemaError{Database: 27, Known: 27, Unknown: []int64{18, 24}},
			"the database has schema migrations 18, 24, which this purser does not know (it knows up to 27): it was upgraded by a newer Purser; run that version or newer (migrations only go forward)"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}

// TestQueriesNameTheirColumns: no query reads `*` from a table, so that a
// column added by a newer release's migration is invisible to the older
// binary still serving during a rolling upgrade (docs/operations.md).
func TestQueriesNameTheirColumns(t *testing.T) {
	star := regexp.MustCompile(`(?i)\b(select|returning)\s+(distinct\s+)?(\w+\.)?\*`)
	for _, dir := range []string{".", filepath.Join("..", "sqlite"), filepath.Join("..", "postgres")} {
		names, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(string(src), "\n") {
				if star.MatchString(line) {
					t.Errorf("%s:%d: %s: name the columns", name, i+1, strings.TrimSpace(line))
				}
			}
		}
	}
}
