package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/purserhq/purser"
)

var _ purser.OpsFactReader = (*DB)(nil)

// OpsFacts gathers what the operators' metrics show, in a few grouped
// queries (and two per user with a quota, and one per Kubernetes cluster):
// a scrape every 15 s or more costs little.
func (db *DB) OpsFacts(ctx context.Context) (*purser.OpsFacts, error) {
	sys := purser.SystemContext(ctx)
	f := &purser.OpsFacts{Requests: map[string]int64{}, RequestEvents: map[string]int64{}, QueueLag: map[string]time.Duration{}, CertExpiry: map[string]time.Time{}}
	if err := db.countBy(ctx, "SELECT status, COUNT(*) FROM requests GROUP BY status", f.Requests); err != nil {
		return nil, fmt.Errorf("requests by status: %w", err)
	}
	if err := db.countBy(ctx, "SELECT action, COUNT(*) FROM events WHERE target_type = 'provisionRequest' GROUP BY action", f.RequestEvents); err != nil {
		return nil, fmt.Errorf("request events: %w", err)
	}
	if db.Catalog.QueueLag != "" {
		rows, err := db.Read.Query(ctx, db.Catalog.QueueLag)
		if err != nil {
			return nil, fmt.Errorf("queue lag: %w", err)
		}
		for rows.Next() {
			var q string
			var s float64
			if err := rows.Scan(&q, &s); err != nil {
				rows.Close()
				return nil, err
			}
			f.QueueLag[q] = time.Duration(max(s, 0) * float64(time.Second))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	rows, err := db.Read.Query(ctx, "SELECT pool, state, spare, COUNT(*), SUM(cores), SUM(memory) FROM hosts GROUP BY pool, state, spare")
	if err != nil {
		return nil, fmt.Errorf("hosts: %w", err)
	}
	for rows.Next() {
		var g purser.HostGroup
		if err := rows.Scan(&g.Pool, &g.State, &g.Spare, &g.Count, &g.Cores, &g.Memory); err != nil {
			rows.Close()
			return nil, err
		}
		f.Hosts = append(f.Hosts, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if f.Pools, _, err = NewPoolService(db).FindPools(sys, purser.Query{Page: 1, MaxResults: 10_000}); err != nil {
		return nil, fmt.Errorf("pools: %w", err)
	}
	usage, err := NewQuotaService(db).Usage(sys, "")
	if err != nil {
		return nil, fmt.Errorf("quota usage: %w", err)
	}
	for _, u := range usage {
		if u.Limited {
			f.Quotas = append(f.Quotas, u)
		}
	}
	clusters, _, err := NewClusterService(db).FindClusters(sys, purser.Query{Where: []purser.Cond{{Field: "kind", Op: "$eq", Value: purser.ClusterKubernetes}}, Page: 1, MaxResults: 10_000})
	if err != nil {
		return nil, fmt.Errorf("clusters: %w", err)
	}
	for _, c := range clusters {
		full, err := db.ClusterCredentials(ctx, c.Name)
		if err != nil {
			return nil, fmt.Errorf("cluster %s: %w", c.Name, err)
		}
		if t, ok := purser.CertificateExpiry(full); ok {
			f.CertExpiry[c.Name] = t
		}
	}
	return f, nil
}

func (db *DB) countBy(ctx context.Context, query string, into map[string]int64) error {
	rows, err := db.Read.Query(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return err
		}
		into[k] = n
	}
	return rows.Err()
}
