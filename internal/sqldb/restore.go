package sqldb

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/riverqueue/river"
)

// RestoreProgress is called as a restore goes: after each table (done) and
// every few thousand rows within a big one.
type RestoreProgress func(table string, rows int64, done bool)

// RestoreSummary says what a restore wrote.
type RestoreSummary struct {
	Manifest           Manifest
	Tables, Rows, Jobs int64
}

// ErrNotEmpty is what a restore returns when the store already holds
// Purser's data.
var ErrNotEmpty = errors.New("the database already holds Purser data")

// Restore reads an archive from r into the store, in one transaction: it
// commits only once every file's checksum matched, so a damaged or
// refused archive changes nothing. The store must be empty (no users:
// what its migrations seeded is replaced) and its schema at least as new
// as the archive's. check, when set, may refuse the manifest (a restore
// needs the key the archive's secrets were sealed with).
func (db *DB) Restore(ctx context.Context, r io.Reader, check func(Manifest) error, progress RestoreProgress) (RestoreSummary, error) {
	var sum RestoreSummary
	if progress == nil {
		progress = func(string, int64, bool) {}
	}
	tr, m, err := db.openArchive(ctx, r)
	if err != nil {
		return sum, err
	}
	sum.Manifest = m
	if check != nil {
		if err := check(m); err != nil {
			return sum, err
		}
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		return sum, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var users int64
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM users").Scan(&users); err != nil {
		return sum, fmt.Errorf("count users: %w", err)
	}
	if users > 0 {
		return sum, fmt.Errorf("%w (%d users): restore only into a new, empty database that no server has started on", ErrNotEmpty, users)
	}
	dest, err := LoadTables(ctx, tx, db.Catalog)
	if err != nil {
		return sum, err
	}
	// What the migrations seeded (built-in roles...) is in the archive too.
	for i := len(dest) - 1; i >= 0; i-- {
		if _, err := tx.Exec(ctx, "DELETE FROM "+quoteIdent(dest[i].Name)); err != nil {
			return sum, fmt.Errorf("empty %s: %w", dest[i].Name, err)
		}
	}
	destByName := map[string]Table{}
	for _, t := range dest {
		destByName[t.Name] = t
	}
	archived := map[string]Table{}
	for _, t := range m.Tables {
		archived["tables/"+t.Name+".jsonl"] = t
	}
	got := map[string]FileSum{}
	var want map[string]FileSum
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return sum, fmt.Errorf("read archive: %w", err)
		}
		h := sha256.New()
		body := bufio.NewReader(io.TeeReader(tr, h))
		var n int64
		switch t, isTable := archived[hdr.Name]; {
		case isTable:
			d, ok := destByName[t.Name]
			if !ok {
				return sum, fmt.Errorf("the backup has a table %s that this database does not", t.Name)
			}
			if n, err = restoreTable(ctx, tx, t, d, body, progress); err != nil {
				return sum, fmt.Errorf("table %s: %w", t.Name, err)
			}
			sum.Tables++
			sum.Rows += n
			progress(t.Name, n, true)
		case hdr.Name == "jobs.jsonl":
			if n, err = db.restoreJobs(ctx, tx, body); err != nil {
				return sum, fmt.Errorf("jobs: %w", err)
			}
			sum.Jobs = n
			progress("jobs", n, true)
		case hdr.Name == "checksums.json":
			if err := json.NewDecoder(body).Decode(&want); err != nil {
				return sum, fmt.Errorf("checksums.json: %w", err)
			}
			continue
		default:
			return sum, fmt.Errorf("the archive holds an unknown file %s", hdr.Name)
		}
		if _, err := io.Copy(io.Discard, body); err != nil {
			return sum, err
		}
		got[hdr.Name] = FileSum{SHA256: hex.EncodeToString(h.Sum(nil)), Rows: n}
	}
	if err := checkSums(got, want); err != nil {
		return sum, err
	}
	return sum, tx.Commit(ctx)
}

// openArchive reads an archive's manifest and checks this database can
// take it: the format is known and the schema no newer than this one's.
func (db *DB) openArchive(ctx context.Context, r io.Reader) (*tar.Reader, Manifest, error) {
	var m Manifest
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, m, fmt.Errorf("not a Purser backup (gzip: %w)", err)
	}
	tr := tar.NewReader(gz)
	hdr, err := tr.Next()
	if err != nil || hdr.Name != "manifest.json" {
		return nil, m, fmt.Errorf("not a Purser backup: its first file is not manifest.json")
	}
	if err := json.NewDecoder(tr).Decode(&m); err != nil {
		return nil, m, fmt.Errorf("manifest.json: %w", err)
	}
	if m.Format != ArchiveFormat {
		return nil, m, fmt.Errorf("archive format %q is not %q, which this version of Purser reads", m.Format, ArchiveFormat)
	}
	var current int64
	if err := db.Read.QueryRow(ctx, SchemaVersionQuery).Scan(&current); err != nil {
		return nil, m, fmt.Errorf("schema version: %w", err)
	}
	if m.SchemaVersion > current {
		return nil, m, fmt.Errorf("the backup's schema (version %d, Purser %s) is newer than this database's (version %d): restore it with Purser %s or later",
			m.SchemaVersion, m.PurserVersion, current, m.PurserVersion)
	}
	return tr, m, nil
}

// checkSums compares what was read with checksums.json (want).
func checkSums(got, want map[string]FileSum) error {
	if want == nil {
		return fmt.Errorf("the archive is incomplete: it has no checksums.json (was the backup cut short?)")
	}
	for name, w := range want {
		if g, ok := got[name]; !ok || g != w {
			return fmt.Errorf("the archive is damaged: %s does not match its checksum; nothing was restored", name)
		}
	}
	if len(got) != len(want) {
		return fmt.Errorf("the archive is damaged: it holds files its checksums do not list; nothing was restored")
	}
	return nil
}

// restoreTable inserts the archived rows of t into d, the same table in
// this database (which may have columns the archive predates: they take
// their defaults).
func restoreTable(ctx context.Context, tx Tx, t, d Table, r *bufio.Reader, progress RestoreProgress) (int64, error) {
	destType := map[string]ColumnType{}
	for _, c := range d.Columns {
		destType[c.Name] = c.Type
	}
	names := make([]string, len(t.Columns))
	types := make([]ColumnType, len(t.Columns))
	for i, c := range t.Columns {
		typ, ok := destType[c.Name]
		if !ok {
			return 0, fmt.Errorf("the backup has a column %s that this database does not", c.Name)
		}
		names[i], types[i] = quoteIdent(c.Name), typ
	}
	// Many rows per INSERT (a round trip each on PostgreSQL), under both
	// engines' bound on parameters.
	per := max(1, 900/len(names))
	head := "INSERT INTO " + quoteIdent(t.Name) + " (" + strings.Join(names, ", ") + ") VALUES "
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(names)), ", ") + ")"
	var pending []any
	var n, queued int64
	flush := func() error {
		if queued == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, head+strings.TrimSuffix(strings.Repeat(one+", ", int(queued)), ", "), pending...); err != nil {
			return fmt.Errorf("rows %d to %d: %w", n-queued+1, n, err)
		}
		pending, queued = pending[:0], 0
		return nil
	}
	for {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			args, derr := decodeRow(line, types)
			if derr != nil {
				return n, fmt.Errorf("row %d: %w", n+1, derr)
			}
			pending = append(pending, args...)
			n++
			if queued++; queued == int64(per) {
				if err := flush(); err != nil {
					return n, err
				}
			}
			if n%5000 == 0 {
				progress(t.Name, n, false)
			}
		}
		if err == io.EOF {
			return n, flush()
		}
		if err != nil {
			return n, err
		}
	}
}

// decodeRow turns one archived row into arguments of the destination's
// column types.
func decodeRow(line []byte, types []ColumnType) ([]any, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var raw []any
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	if len(raw) != len(types) {
		return nil, fmt.Errorf("%d values for %d columns", len(raw), len(types))
	}
	args := make([]any, len(raw))
	for i, v := range raw {
		if v == nil {
			continue
		}
		var err error
		switch types[i] {
		case ColumnInt:
			args[i], err = v.(json.Number).Int64()
		case ColumnFloat:
			args[i], err = v.(json.Number).Float64()
		case ColumnBool:
			args[i] = v.(bool)
		case ColumnBytes:
			args[i], err = base64.StdEncoding.DecodeString(v.(string))
		default:
			args[i] = v.(string)
		}
		if err != nil {
			return nil, err
		}
	}
	return args, nil
}

// restoreJobs inserts the archived unfinished jobs through River, due now.
func (db *DB) restoreJobs(ctx context.Context, tx Tx, r *bufio.Reader) (int64, error) {
	var n int64
	dec := json.NewDecoder(r)
	for {
		var j archivedJob
		if err := dec.Decode(&j); err == io.EOF {
			return n, nil
		} else if err != nil {
			return n, err
		}
		opts := &river.InsertOpts{Queue: j.Queue, Priority: j.Priority, MaxAttempts: j.MaxAttempts}
		if len(j.Metadata) > 0 {
			opts.Metadata = j.Metadata
		}
		if err := db.InsertJob(ctx, tx, rawJob{kind: j.Kind, args: j.Args}, opts); err != nil {
			return n, fmt.Errorf("job %d (%s): %w", n+1, j.Kind, err)
		}
		n++
	}
}

// rawJob inserts an archived job's kind and arguments as they were.
type rawJob struct {
	kind string
	args json.RawMessage
}

// Kind implements river.JobArgs.
func (j rawJob) Kind() string { return j.kind }

// MarshalJSON gives River the archived arguments unchanged.
func (j rawJob) MarshalJSON() ([]byte, error) { return j.args, nil }
