package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/purserhq/purser"
)

var _ purser.StackLister = (*StackService)(nil)

// StackSummaries returns every cluster's current revision with its drift
// state, in one query whatever the number of clusters.
func (s *StackService) StackSummaries(ctx context.Context) ([]purser.StackSummary, error) {
	if err := purser.Authorize(ctx, purser.ActionStackRead, ""); err != nil {
		return nil, err
	}
	rows, err := s.db.Read.Query(ctx, `SELECT r.cluster, c.kind, r.number, r.status, r.author, r.message, r.created_at, r.normalized, d.drifted, d.checked_at
		FROM stack_revisions r
		JOIN clusters c ON c.name = r.cluster
		LEFT JOIN stack_drift d ON d.cluster = r.cluster
		WHERE r.number = (SELECT MAX(x.number) FROM stack_revisions x WHERE x.cluster = r.cluster)
		ORDER BY r.cluster LIMIT `+strconv.Itoa(purser.MaxStackSummaries))
	if err != nil {
		return nil, fmt.Errorf("stack summaries: %w", err)
	}
	defer rows.Close()
	var out []purser.StackSummary
	for rows.Next() {
		var st purser.StackSummary
		var created int64
		var normalized string
		var drifted *bool
		var checked *int64
		if err := rows.Scan(&st.Cluster, &st.ClusterKind, &st.Revision, &st.Status, &st.Author, &st.Message, &created, &normalized, &drifted, &checked); err != nil {
			return nil, err
		}
		st.Created, st.DriftChecked = fromMicros(created), fromMicrosPtr(checked)
		st.Drifted = drifted != nil && *drifted
		var sf struct {
			Services []json.RawMessage `json:"services"`
		}
		_ = json.Unmarshal([]byte(normalized), &sf)
		st.Services = len(sf.Services)
		out = append(out, st)
	}
	return out, rows.Err()
}
