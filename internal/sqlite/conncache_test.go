package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// TestConnCache: a text is prepared once per connection and reused; the
// same text run again while its rows are still open runs unprepared; a
// statement that fails is dropped and the next run works; past the bound
// every text still answers.
func TestConnCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := openCached("file:" + filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (x INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	insert := "INSERT INTO t (x) VALUES (?)"
	for i := range 5 {
		if _, err := db.ExecContext(ctx, insert, i); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, insert, 1); err == nil {
		t.Fatal("a duplicate key was inserted")
	}
	if _, err := db.ExecContext(ctx, insert, 5); err != nil {
		t.Fatalf("after a failure: %v", err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		if cs, ok := dc.(*cachedConn).stmts[insert]; !ok || cs.busy {
			t.Errorf("the insert is not kept prepared: %v", cs)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sel := "SELECT x FROM t WHERE x >= ? ORDER BY x"
	outer, err := conn.QueryContext(ctx, sel, 0)
	if err != nil {
		t.Fatal(err)
	}
	var sum, n int
	for outer.Next() {
		var x int
		if err := outer.Scan(&x); err != nil {
			t.Fatal(err)
		}
		sum += x
		var inner int
		// The same text while the outer rows are open.
		if err := conn.QueryRowContext(ctx, sel, x).Scan(&inner); err != nil || inner != x {
			t.Fatalf("nested query: %d %v", inner, err)
		}
		n++
	}
	if err := outer.Close(); err != nil || n != 6 || sum != 15 {
		t.Fatalf("outer: %d rows, sum %d, %v", n, sum, err)
	}
	for i := range connStmts + 10 {
		var got int
		q := "SELECT ? + " + string(rune('0'+i%10)) + " + " + itoa(i)
		if err := conn.QueryRowContext(ctx, q, 1).Scan(&got); err != nil || got != 1+i%10+i {
			t.Fatalf("%s: %d %v", q, got, err)
		}
	}
}

func itoa(i int) string { return fmt.Sprint(i) }
