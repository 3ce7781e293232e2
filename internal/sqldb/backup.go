package sqldb

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// ArchiveFormat names the layout of a backup archive; a restore refuses
// any other. An archive is a gzip-compressed tar of, in this order:
// manifest.json (format, schema version, tables and their columns),
// tables/<name>.jsonl (one JSON array per row, in the manifest's column
// order), jobs.jsonl (the queue's unfinished jobs, engine-neutral) and
// checksums.json (each file's SHA-256 and row count).
const ArchiveFormat = "purser-backup/1"

// ColumnType is a column's type in an archive, the same whatever engine
// wrote it or will read it.
type ColumnType string

// The column types of an archive.
const (
	ColumnInt   ColumnType = "int"
	ColumnFloat ColumnType = "float"
	ColumnBool  ColumnType = "bool"
	ColumnText  ColumnType = "text"
	ColumnBytes ColumnType = "bytes"
)

// ColumnTypeOf maps a column's declared SQL type, on either engine, to its
// archive type (JSON is text: it is copied as written).
func ColumnTypeOf(declared string) ColumnType {
	d := strings.ToLower(declared)
	switch {
	case strings.Contains(d, "int"):
		return ColumnInt
	case strings.Contains(d, "bool"):
		return ColumnBool
	case strings.Contains(d, "real"), strings.Contains(d, "double"), strings.Contains(d, "float"), strings.Contains(d, "numeric"):
		return ColumnFloat
	case d == "bytea", d == "blob":
		return ColumnBytes
	}
	return ColumnText
}

// Column is one column of a table.
type Column struct {
	Name string     `json:"name"`
	Type ColumnType `json:"type"`
}

// Table is one of Purser's tables: its columns, and the tables its
// foreign keys refer to (which are restored before it).
type Table struct {
	Name    string   `json:"name"`
	Columns []Column `json:"columns"`
	Parents []string `json:"-"`
}

// Catalog is how an engine describes its schema to a backup or a restore.
type Catalog struct {
	// Tables lists every table's name.
	Tables string
	// Columns lists a table's (?) columns as name and declared type, in order.
	Columns string
	// Parents lists the tables a table's (?) foreign keys refer to.
	Parents string
	// Jobs lists the queue's unfinished jobs as kind, args (JSON text),
	// queue, priority, max_attempts and metadata (JSON text).
	Jobs string
	// QueueLag lists, per queue, the seconds its oldest available job has
	// waited (queue, seconds).
	QueueLag string
}

// SchemaVersionQuery is the highest migration applied, on either engine.
const SchemaVersionQuery = "SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied"

// skipTable reports whether a table stays out of archives: the migration
// tools' own (the schema version says where they stood), the job queue's
// (its unfinished jobs go to jobs.jsonl instead) and replicas' leases,
// which belong to processes that will not be there after a restore.
func skipTable(name string) bool {
	return strings.HasPrefix(name, "river_") || strings.HasPrefix(name, "goose_") || strings.HasPrefix(name, "sqlite_") || name == "replica_leases"
}

// LoadTables reads Purser's tables through cat, ordered so that each comes
// after the tables it refers to.
func LoadTables(ctx context.Context, q Querier, cat Catalog) ([]Table, error) {
	names, err := queryStrings(ctx, q, cat.Tables)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	byName := map[string]*Table{}
	for _, n := range names {
		if skipTable(n) {
			continue
		}
		t := &Table{Name: n}
		rows, err := q.Query(ctx, cat.Columns, n)
		if err != nil {
			return nil, fmt.Errorf("columns of %s: %w", n, err)
		}
		for rows.Next() {
			var c, typ string
			if err := rows.Scan(&c, &typ); err != nil {
				rows.Close()
				return nil, err
			}
			t.Columns = append(t.Columns, Column{Name: c, Type: ColumnTypeOf(typ)})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if t.Parents, err = queryStrings(ctx, q, cat.Parents, n); err != nil {
			return nil, fmt.Errorf("foreign keys of %s: %w", n, err)
		}
		byName[n] = t
	}
	// Parents first; ties by name, so that archives compare alike.
	var out []Table
	done := map[string]bool{}
	for len(out) < len(byName) {
		var ready []string
		for n, t := range byName {
			if done[n] {
				continue
			}
			if !slices.ContainsFunc(t.Parents, func(p string) bool { return p != n && byName[p] != nil && !done[p] }) {
				ready = append(ready, n)
			}
		}
		if len(ready) == 0 {
			return nil, fmt.Errorf("the tables' foreign keys form a cycle")
		}
		slices.Sort(ready)
		for _, n := range ready {
			done[n] = true
			out = append(out, *byName[n])
		}
	}
	return out, nil
}

func queryStrings(ctx context.Context, q Querier, query string, args ...any) ([]string, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Snapshot is a consistent, read-only view of a whole store, for a backup:
// what a SQLite copy (VACUUM INTO) or a PostgreSQL REPEATABLE READ READ
// ONLY transaction sees.
type Snapshot struct {
	Engine  string
	Read    Querier
	Catalog Catalog
	// Close ends the snapshot (rolls back the transaction, removes the copy).
	Close func() error
}

// Manifest is an archive's first file.
type Manifest struct {
	Format        string    `json:"format"`
	PurserVersion string    `json:"purser_version"`
	Engine        string    `json:"engine"`
	SchemaVersion int64     `json:"schema_version"`
	Created       time.Time `json:"created"`
	// KeyFingerprint identifies the secret_key that sealed the archive's
	// secrets (they stay sealed): a restore needs the same key.
	KeyFingerprint string  `json:"key_fingerprint"`
	Tables         []Table `json:"tables"`
}

// FileSum is one file's entry in checksums.json.
type FileSum struct {
	SHA256 string `json:"sha256"`
	Rows   int64  `json:"rows"`
}

// BackupSummary says what an archive holds.
type BackupSummary struct {
	Tables, Rows, Jobs int64
}

// WriteArchive writes the snapshot to w as an archive; m gives the
// version, creation time and key fingerprint to record.
func WriteArchive(ctx context.Context, snap *Snapshot, w io.Writer, m Manifest) (BackupSummary, error) {
	var sum BackupSummary
	tables, err := LoadTables(ctx, snap.Read, snap.Catalog)
	if err != nil {
		return sum, err
	}
	if err := snap.Read.QueryRow(ctx, SchemaVersionQuery).Scan(&m.SchemaVersion); err != nil {
		return sum, fmt.Errorf("schema version: %w", err)
	}
	m.Format, m.Engine, m.Tables = ArchiveFormat, snap.Engine, tables
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return sum, err
	}
	if err := writeEntry(tw, "manifest.json", manifest, m.Created); err != nil {
		return sum, err
	}
	sums := map[string]FileSum{}
	for _, t := range tables {
		fs, err := spoolEntry(tw, "tables/"+t.Name+".jsonl", m.Created, func(enc *json.Encoder) (int64, error) { return dumpTable(ctx, snap.Read, t, enc) })
		if err != nil {
			return sum, fmt.Errorf("table %s: %w", t.Name, err)
		}
		sums["tables/"+t.Name+".jsonl"] = fs
		sum.Tables++
		sum.Rows += fs.Rows
	}
	fs, err := spoolEntry(tw, "jobs.jsonl", m.Created, func(enc *json.Encoder) (int64, error) { return dumpJobs(ctx, snap.Read, snap.Catalog.Jobs, enc) })
	if err != nil {
		return sum, fmt.Errorf("jobs: %w", err)
	}
	sums["jobs.jsonl"] = fs
	sum.Jobs = fs.Rows
	checks, err := json.MarshalIndent(sums, "", "  ")
	if err != nil {
		return sum, err
	}
	if err := writeEntry(tw, "checksums.json", checks, m.Created); err != nil {
		return sum, err
	}
	if err := tw.Close(); err != nil {
		return sum, err
	}
	return sum, gz.Close()
}

func writeEntry(tw *tar.Writer, name string, body []byte, mod time.Time) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(body)), ModTime: mod, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err := tw.Write(body)
	return err
}

// spoolEntry writes what fill encodes to a temporary file (a tar entry's
// size comes before its body), hashing it, then copies it into tw.
func spoolEntry(tw *tar.Writer, name string, mod time.Time, fill func(*json.Encoder) (int64, error)) (FileSum, error) {
	f, err := os.CreateTemp("", "purser-backup-*.jsonl")
	if err != nil {
		return FileSum{}, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	h := sha256.New()
	rows, err := fill(json.NewEncoder(io.MultiWriter(f, h)))
	if err != nil {
		return FileSum{}, err
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return FileSum{}, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return FileSum{}, err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: mod, Typeflag: tar.TypeReg}); err != nil {
		return FileSum{}, err
	}
	if _, err := io.Copy(tw, f); err != nil {
		return FileSum{}, err
	}
	return FileSum{SHA256: hex.EncodeToString(h.Sum(nil)), Rows: rows}, nil
}

// dumpTable encodes every row of t as a JSON array in column order.
func dumpTable(ctx context.Context, q Querier, t Table, enc *json.Encoder) (int64, error) {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = quoteIdent(c.Name)
	}
	rows, err := q.Query(ctx, "SELECT "+strings.Join(names, ", ")+" FROM "+quoteIdent(t.Name))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		dest := make([]any, len(t.Columns))
		for i, c := range t.Columns {
			switch c.Type {
			case ColumnInt:
				dest[i] = new(sql.NullInt64)
			case ColumnFloat:
				dest[i] = new(sql.NullFloat64)
			case ColumnBool:
				dest[i] = new(sql.NullBool)
			case ColumnBytes:
				dest[i] = new([]byte)
			default:
				dest[i] = new(sql.NullString)
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return n, err
		}
		row := make([]any, len(dest))
		for i, d := range dest {
			switch v := d.(type) {
			case *sql.NullInt64:
				row[i] = orNil(v.Int64, v.Valid)
			case *sql.NullFloat64:
				row[i] = orNil(v.Float64, v.Valid)
			case *sql.NullBool:
				row[i] = orNil(v.Bool, v.Valid)
			case *sql.NullString:
				row[i] = orNil(v.String, v.Valid)
			case *[]byte:
				row[i] = orNil(*v, *v != nil) // base64 in JSON
			}
		}
		if err := enc.Encode(row); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

func orNil[T any](v T, valid bool) any {
	if !valid {
		return nil
	}
	return v
}

// archivedJob is an unfinished job as an archive keeps it: what River
// needs to insert it again on either engine.
type archivedJob struct {
	Kind        string          `json:"kind"`
	Args        json.RawMessage `json:"args"`
	Queue       string          `json:"queue"`
	Priority    int             `json:"priority"`
	MaxAttempts int             `json:"max_attempts"`
	Metadata    json.RawMessage `json:"metadata,omitempty"`
}

func dumpJobs(ctx context.Context, q Querier, query string, enc *json.Encoder) (int64, error) {
	rows, err := q.Query(ctx, query)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		var j archivedJob
		var args, meta string
		if err := rows.Scan(&j.Kind, &args, &j.Queue, &j.Priority, &j.MaxAttempts, &meta); err != nil {
			return n, err
		}
		j.Args = json.RawMessage(args)
		if meta != "" && meta != "{}" {
			j.Metadata = json.RawMessage(meta)
		}
		if err := enc.Encode(j); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// quoteIdent quotes a table or column name the same way on both engines.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
