package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/purserhq/purser/internal/postgres"
	"github.com/purserhq/purser/internal/sqldb"
	"github.com/purserhq/purser/internal/storetest"
)

func TestStore(t *testing.T) {
	t.Parallel()
	if os.Getenv("PURSER_TEST_POSTGRES_URL") == "" {
		storetest.PostgresURL(t) // fails under CI
		t.Skip("PURSER_TEST_POSTGRES_URL is not set (.ci/run always sets it)")
	}
	storetest.Run(t, func(t *testing.T) *sqldb.DB {
		s, err := postgres.Open(context.Background(), storetest.PostgresURL(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s.DB
	})
}
