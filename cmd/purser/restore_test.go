package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/sqldb"
)

// entry is one file of an archive.
type entry struct {
	name string
	body []byte
}

func readArchive(t *testing.T, path string) []entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var out []entry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, entry{h.Name, b})
	}
}

// writeArchive writes entries as an archive; with resum, checksums.json is
// made anew for them (an archive edited on purpose, not damaged).
func writeArchive(t *testing.T, path string, entries []entry, resum bool) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	sums := map[string]sqldb.FileSum{}
	for _, e := range entries {
		if e.name == "checksums.json" && resum {
			var err error
			if e.body, err = json.Marshal(sums); err != nil {
				t.Fatal(err)
			}
		} else if strings.HasSuffix(e.name, ".jsonl") {
			h := sha256.Sum256(e.body)
			sums[e.name] = sqldb.FileSum{SHA256: hex.EncodeToString(h[:]), Rows: int64(bytes.Count(e.body, []byte("\n")))}
		}
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o600, Size: int64(len(e.body))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRestoreRefuses: an archive from a newer schema, or damaged, is
// refused with a message saying so and changes nothing (a good archive
// then restores into the same store); unfinished jobs come back.
func TestRestoreRefuses(t *testing.T) {
	dir := t.TempDir()
	archive := filepath.Join(dir, "good.tar.gz")
	var key string
	t.Run("Backup", func(t *testing.T) {
		server(t, "PURSER_SECRET_KEY", testKey)
		if code, out, errOut := cli(t, "backup", archive); code != 0 {
			t.Fatalf("backup: %d %q %q", code, out, errOut)
		}
		key = testKey
	})
	good := readArchive(t, archive)
	target := t.TempDir()
	t.Setenv("PURSER_DATA_DIR", target)
	t.Setenv("PURSER_SECRET_KEY", key)
	edit := func(name string, f func(e *entry), resum bool) string {
		t.Helper()
		var out []entry
		for _, e := range good {
			e.body = bytes.Clone(e.body)
			f(&e)
			out = append(out, e)
		}
		p := filepath.Join(dir, name)
		writeArchive(t, p, out, resum)
		return p
	}

	newer := edit("newer.tar.gz", func(e *entry) {
		if e.name == "manifest.json" {
			var m map[string]any
			_ = json.Unmarshal(e.body, &m)
			m["schema_version"] = m["schema_version"].(float64) + 1
			m["purser_version"] = "v9.9.9"
			e.body, _ = json.Marshal(m)
		}
	}, false)
	if code, _, errOut := cli(t, "restore", newer); code == 0 || !strings.Contains(errOut, "newer than this database") || !strings.Contains(errOut, "v9.9.9 or later") {
		t.Fatalf("restore of a newer schema: %d %q", code, errOut)
	}
	damaged := edit("damaged.tar.gz", func(e *entry) {
		if e.name == "tables/users.jsonl" {
			e.body = bytes.Replace(e.body, []byte(`"admin"`), []byte(`"admim"`), 1)
		}
	}, false)
	if code, _, errOut := cli(t, "restore", damaged); code == 0 || !strings.Contains(errOut, "tables/users.jsonl does not match its checksum") {
		t.Fatalf("restore of a damaged archive: %d %q", code, errOut)
	}
	cut := filepath.Join(dir, "cut.tar.gz")
	data, _ := os.ReadFile(archive)
	if err := os.WriteFile(cut, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := cli(t, "restore", cut); code == 0 {
		t.Fatalf("restore of a cut archive succeeded: %q", errOut)
	}
	withJob := edit("job.tar.gz", func(e *entry) {
		if e.name == "jobs.jsonl" {
			e.body = append(e.body, []byte(`{"kind":"token_cleanup","args":{},"queue":"default","priority":1,"max_attempts":5}`+"\n")...)
		}
	}, true)
	code, out, errOut := cli(t, "restore", withJob)
	if code != 0 || !strings.Contains(out, "and 1 unfinished jobs") {
		t.Fatalf("restore after the refusals: %d %q %q", code, out, errOut)
	}
	// The restored job is unfinished in the new store: a backup carries it.
	if code, out, errOut := cli(t, "backup", filepath.Join(dir, "again.tar.gz")); code != 0 || !strings.Contains(out, "and 1 unfinished jobs") {
		t.Fatalf("backup of the restored store: %d %q %q", code, out, errOut)
	}
	if _, again := server(t, "PURSER_DATA_DIR", target, "PURSER_SECRET_KEY", key); again != "" {
		t.Fatal("the restored store made a new admin")
	}
}
