package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/purserhq/purser/internal/sqldb"
)

// TestStatementCache: reads and writes give the same answers whether
// their statements are cached, first seen in a transaction (prepared after
// it), or past the cache's bound (run unprepared).
func TestStatementCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "purser.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	insert := "INSERT INTO roles (role, created_at, updated_at) VALUES (?, 1, 1)"
	for i := range 3 {
		err := s.WithTx(ctx, func(tx sqldb.Tx) error {
			_, err := tx.Exec(ctx, insert, fmt.Sprintf("r%d", i))
			return err
		})
		if err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
	}
	s.writeStmts.mu.RLock()
	_, cached := s.writeStmts.m[insert]
	s.writeStmts.mu.RUnlock()
	if !cached {
		t.Fatal("a statement run in a transaction was not prepared after it")
	}
	// Past the bound: every text still answers.
	for i := range maxStmts + 10 {
		var n int
		q := fmt.Sprintf("SELECT COUNT(*) + %d FROM roles WHERE role LIKE ?", i)
		if err := s.Read.QueryRow(ctx, q, "r%").Scan(&n); err != nil || n != 3+i {
			t.Fatalf("%s: %d, %v; want %d", q, n, err, 3+i)
		}
	}
	if n := len(s.DB.Read.(interface{ Unwrap() sqldb.Querier }).Unwrap().(querier).stmts.m); n != maxStmts {
		t.Fatalf("%d statements cached, want the bound %d", n, maxStmts)
	}
}
