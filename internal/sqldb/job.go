package sqldb

import (
	"github.com/purserhq/purser"

	"context"
	"fmt"
	"time"
)

// JobCounts counts River's jobs by kind and state.
func (db *DB) JobCounts(ctx context.Context) ([]purser.JobCount, error) {
	rows, err := db.Read.Query(ctx, "SELECT kind, state, COUNT(*) FROM river_job GROUP BY kind, state ORDER BY kind, state")
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	defer rows.Close()
	var out []purser.JobCount
	for rows.Next() {
		var c purser.JobCount
		if err := rows.Scan(&c.Kind, &c.State, &c.Count); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteStaleTokens deletes tokens revoked or expired before cutoff and
// returns how many.
func (db *DB) DeleteStaleTokens(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := db.WithTx(ctx, func(tx Tx) error {
		var err error
		c := micros(cutoff)
		n, err = tx.Exec(ctx, "DELETE FROM tokens WHERE revoked_at < ? OR expires_at < ?", c, c)
		return err
	})
	return n, err
}
