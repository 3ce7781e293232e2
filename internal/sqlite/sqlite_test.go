package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/sqldb"
	"github.com/purserhq/purser/internal/sqlite"
	"github.com/purserhq/purser/internal/storetest"
)

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) *sqldb.DB {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "purser.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s.DB
	})
}

// TestDamagedFileFailsPing: a database file with garbage over some of its
// pages still opens, but Ping (the readiness check) reports the damage.
func TestDamagedFileFailsPing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "purser.db")
	s, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s.WithTx(ctx, func(tx sqldb.Tx) error {
		if _, err := tx.Exec(ctx, "CREATE TABLE filler (b BLOB)"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 2000) INSERT INTO filler SELECT randomblob(900) FROM n")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("sound file: %v", err)
	}
	s.Close() // checkpoints the WAL into the file
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 1<<20 {
		t.Fatalf("the file is %d bytes; the WAL was not checkpointed", len(data))
	}
	// Garbage over pages well inside filler's, far from the schema.
	for i := len(data) * 6 / 10; i < len(data)*7/10; i++ {
		data[i] = byte(i*7 + 13)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.Open(ctx, path, nil)
	if err != nil {
		t.Fatalf("a damaged file should still open, for /readyz to tell: %v", err)
	}
	defer s.Close()
	if err := s.Ping(ctx); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("Ping on a damaged file: %v", err)
	}
}
