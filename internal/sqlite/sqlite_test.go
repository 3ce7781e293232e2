package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/purserhq/purser/internal/sqldb"
	"github.com/purserhq/purser/internal/sqlite"
	"github.com/purserhq/purser/internal/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *sqldb.DB {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "purser.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s.DB
	})
}
