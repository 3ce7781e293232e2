package postgres_test

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/purserhq/purser/internal/postgres"
	"github.com/purserhq/purser/internal/sqldb"
	"github.com/purserhq/purser/internal/sqlite"
	"github.com/purserhq/purser/internal/storetest"
)

// schema is what both engines' migrations must agree on, in terms both can
// be read in.
type schema map[string]*table

type table struct {
	Columns     map[string]column
	PrimaryKey  string            // its columns, in order, comma-separated
	Indexes     map[string]string // a named index: "unique? (columns) where predicate"
	Uniques     []string          // unique constraints' columns, sorted
	ForeignKeys []string          // "columns -> table(columns) on delete action", sorted
}

type column struct {
	Type    string
	NotNull bool
}

// types maps each engine's declared column types to one name. INTEGER and
// BIGINT stay apart: SQLite stores both in 64 bits, but PostgreSQL's
// integer holds 32, so a column must be declared the same on both sides.
var types = map[string]string{
	// SQLite, as declared
	"TEXT": "text", "BIGINT": "bigint", "INTEGER": "integer", "BOOLEAN": "boolean", "REAL": "double", "BLOB": "bytes",
	// PostgreSQL, as information_schema names them
	"text": "text", "bigint": "bigint", "integer": "integer", "boolean": "boolean", "double precision": "double", "bytea": "bytes",
}

// TestMigrationsDescribeOneSchema: the two migration folders make the same
// tables, columns (types mapped), nullability, keys, indexes and
// constraints. River's tables are River's (its drivers migrate them) and
// goose's version table is bookkeeping: both are left out.
func TestMigrationsDescribeOneSchema(t *testing.T) {
	t.Parallel()
	url := storetest.PostgresURL(t)
	if url == "" {
		t.Skip("PURSER_TEST_POSTGRES_URL is not set (.ci/run always sets it)")
	}
	ctx := context.Background()
	pg, err := postgres.Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	lite, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "purser.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	want, got := readSQLite(t, lite.DB), readPostgres(t, pg.DB)
	if len(want) == 0 {
		t.Fatal("read no tables from SQLite")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("the migrations describe different schemas (-sqlite +postgres):\n%s", diff)
	}
}

func ours(name string) bool {
	return !strings.HasPrefix(name, "river_") && !strings.HasPrefix(name, "sqlite_") && name != "goose_db_version"
}

// strings reads one string column of every row.
func readStrings(t *testing.T, q sqldb.Querier, query string, args ...any) []string {
	t.Helper()
	rows, err := q.Query(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func mapType(t *testing.T, tbl, col, typ string) string {
	if m, ok := types[typ]; ok {
		return m
	}
	t.Errorf("%s.%s: type %q is not in the mapping table", tbl, col, typ)
	return typ
}

func readSQLite(t *testing.T, db *sqldb.DB) schema {
	ctx := context.Background()
	s := schema{}
	for _, name := range readStrings(t, db.Read, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") {
		if !ours(name) {
			continue
		}
		tb := &table{Columns: map[string]column{}, Indexes: map[string]string{}}
		s[name] = tb
		rows, err := db.Read.Query(ctx, `SELECT name, type, "notnull", pk FROM pragma_table_info(?) ORDER BY cid`, name)
		if err != nil {
			t.Fatal(err)
		}
		pk := map[int]string{}
		for rows.Next() {
			var col, typ string
			var notNull bool
			var pos int
			if err := rows.Scan(&col, &typ, &notNull, &pos); err != nil {
				t.Fatal(err)
			}
			// SQLite lets a NULL into a non-INTEGER primary key column not
			// declared NOT NULL (a documented legacy quirk); no code of
			// ours inserts one, so a key column counts as NOT NULL here,
			// as PostgreSQL makes it.
			tb.Columns[col] = column{Type: mapType(t, name, col, typ), NotNull: notNull || pos > 0}
			if pos > 0 {
				pk[pos] = col
			}
		}
		rows.Close()
		for i := 1; i <= len(pk); i++ {
			tb.PrimaryKey = strings.TrimPrefix(tb.PrimaryKey+","+pk[i], ",")
		}
		rows, err = db.Read.Query(ctx, `SELECT name, "unique", origin FROM pragma_index_list(?)`, name)
		if err != nil {
			t.Fatal(err)
		}
		type idx struct {
			name, origin string
			unique       bool
		}
		var idxs []idx
		for rows.Next() {
			var i idx
			if err := rows.Scan(&i.name, &i.unique, &i.origin); err != nil {
				t.Fatal(err)
			}
			idxs = append(idxs, i)
		}
		rows.Close()
		for _, i := range idxs {
			cols := strings.Join(readStrings(t, db.Read, "SELECT name FROM pragma_index_info(?) ORDER BY seqno", i.name), ",")
			switch i.origin {
			case "pk":
			case "u":
				tb.Uniques = append(tb.Uniques, cols)
			default:
				var where string
				if sql := readStrings(t, db.Read, "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", i.name); len(sql) == 1 {
					if _, w, ok := strings.Cut(strings.ToUpper(sql[0]), " WHERE "); ok {
						where = w
					}
				}
				tb.Indexes[i.name] = index(i.unique, cols, where)
			}
		}
		slices.Sort(tb.Uniques)
		rows, err = db.Read.Query(ctx, `SELECT id, "table", "from", COALESCE("to", ''), on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq`, name)
		if err != nil {
			t.Fatal(err)
		}
		fks := map[int]*[4]string{}
		var ids []int
		for rows.Next() {
			var id int
			var ref, from, to, onDelete string
			if err := rows.Scan(&id, &ref, &from, &to, &onDelete); err != nil {
				t.Fatal(err)
			}
			if fks[id] == nil {
				fks[id] = &[4]string{"", ref, "", onDelete}
				ids = append(ids, id)
			}
			fks[id][0] = strings.TrimPrefix(fks[id][0]+","+from, ",")
			fks[id][2] = strings.TrimPrefix(fks[id][2]+","+to, ",")
		}
		rows.Close()
		for _, id := range ids {
			f := fks[id]
			tb.ForeignKeys = append(tb.ForeignKeys, foreignKey(f[0], f[1], f[2], f[3]))
		}
		slices.Sort(tb.ForeignKeys)
	}
	return s
}

func readPostgres(t *testing.T, db *sqldb.DB) schema {
	ctx := context.Background()
	s := schema{}
	tables := readStrings(t, db.Read, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")
	for _, name := range tables {
		if !ours(name) {
			continue
		}
		tb := &table{Columns: map[string]column{}, Indexes: map[string]string{}}
		s[name] = tb
		rows, err := db.Read.Query(ctx, `SELECT column_name, data_type, is_nullable = 'NO' FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ?`, name)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var col, typ string
			var notNull bool
			if err := rows.Scan(&col, &typ, &notNull); err != nil {
				t.Fatal(err)
			}
			tb.Columns[col] = column{Type: mapType(t, name, col, typ), NotNull: notNull}
		}
		rows.Close()
		// Every index with its columns in key order, and what made it.
		rows, err = db.Read.Query(ctx, `
			SELECT ic.relname, i.indisprimary, i.indisunique, COALESCE(pg_get_expr(i.indpred, i.indrelid), ''),
			       COALESCE(c.contype, ''),
			       (SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
			        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum)
			FROM pg_index i
			JOIN pg_class ic ON ic.oid = i.indexrelid
			LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype IN ('p', 'u')
			WHERE i.indrelid = (quote_ident(current_schema()) || '.' || quote_ident(?))::regclass`, name)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var iname, where, contype, cols string
			var primary, unique bool
			if err := rows.Scan(&iname, &primary, &unique, &where, &contype, &cols); err != nil {
				t.Fatal(err)
			}
			switch {
			case primary:
				tb.PrimaryKey = cols
			case contype == "u":
				tb.Uniques = append(tb.Uniques, cols)
			default:
				tb.Indexes[iname] = index(unique, cols, where)
			}
		}
		rows.Close()
		slices.Sort(tb.Uniques)
		rows, err = db.Read.Query(ctx, `
			SELECT c.confrelid::regclass::text, c.confdeltype,
			       (SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
			        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum),
			       (SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, n)
			        JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum)
			FROM pg_constraint c
			WHERE c.contype = 'f' AND c.conrelid = (quote_ident(current_schema()) || '.' || quote_ident(?))::regclass`, name)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var ref, action, from, to string
			if err := rows.Scan(&ref, &action, &from, &to); err != nil {
				t.Fatal(err)
			}
			tb.ForeignKeys = append(tb.ForeignKeys, foreignKey(from, ref, to, pgActions[action]))
		}
		rows.Close()
		slices.Sort(tb.ForeignKeys)
	}
	return s
}

// pgActions names pg_constraint.confdeltype as SQLite's foreign_key_list does.
var pgActions = map[string]string{"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}

func foreignKey(from, ref, to, onDelete string) string {
	return fmt.Sprintf("%s -> %s(%s) on delete %s", from, ref, to, onDelete)
}

var (
	casts  = regexp.MustCompile(`::[a-z_]+`)
	spaces = regexp.MustCompile(`[\s()]+`)
)

// index describes an index; a partial index's predicate is compared with
// PostgreSQL's casts, parentheses, spacing and case taken out.
func index(unique bool, cols, where string) string {
	where = strings.ToLower(spaces.ReplaceAllString(casts.ReplaceAllString(where, ""), " "))
	s := "(" + cols + ")"
	if unique {
		s = "unique " + s
	}
	if where = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(where), ";")); where != "" {
		s += " where " + where
	}
	return s
}
