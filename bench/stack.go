package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
	"github.com/purserhq/purser/internal/stackfile"
)

// stackResult is the cost of a stack of n services: reading its
// stackfile (parse, schema, rules, normalise) against a bare YAML decode
// of the same text, and planning it against a target where a tenth of
// the services run another image and a tenth another count.
type stackResult struct {
	n                  int
	read, bareDecode   time.Duration // medians
	plan               time.Duration // median
	updates, unchanged int
}

// bigStackfile is a stackfile of n services, each on a port behind a
// private load balancer, depending in chains of ten, with a secret.
func bigStackfile(n int) []byte {
	var sb strings.Builder
	sb.WriteString("logging: {log_driver: awslogs, options: {awslogs-group: /ecs/big}}\ndefaults:\n  memory: 512\n  environment:\n    - A: 1\nservices:\n")
	for i := range n {
		fmt.Fprintf(&sb, "  - svc-%04d:\n      image: r/svc-%04d:v1\n      ports: [\"8080:8080\"]\n      environment:\n        - SECRET: ${SECRET}\n", i, i)
		if i%10 != 0 {
			fmt.Fprintf(&sb, "      depends_on: [svc-%04d]\n", i-1)
		}
		sb.WriteString("      elb: {type: private, ports: {public: 80, container: 8080}}\n")
	}
	return []byte(sb.String())
}

// runStack measures a stack of n services, each figure the median of
// rounds runs.
func runStack(n, rounds int) stackResult {
	text := bigStackfile(n)
	median := func(f func()) time.Duration {
		ds := make([]time.Duration, rounds)
		for i := range ds {
			start := time.Now()
			f()
			ds[i] = time.Since(start)
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	r := stackResult{n: n}
	var desired *purser.Stackfile
	r.read = median(func() {
		sf, err := stackfile.Parse(text)
		if err != nil {
			log.Fatal(err)
		}
		desired = sf.Normalize()
	})
	r.bareDecode = median(func() {
		var v any
		if err := yaml.Unmarshal(text, &v); err != nil {
			log.Fatal(err)
		}
	})
	actual := make([]purser.ActualService, len(desired.Services))
	for i, sv := range desired.Services {
		actual[i] = purser.ActualService{Spec: sv, RunningCount: sv.Count()}
		switch i % 10 {
		case 3:
			actual[i].Spec.Image += "-old"
		case 7:
			five := 5
			actual[i].Spec.DesiredCount = &five
		}
	}
	var p purser.Plan
	r.plan = median(func() { p = purser.PlanStack(desired, actual) })
	r.updates, r.unchanged = p.Count(purser.PlanUpdate), p.Count(purser.PlanUnchanged)
	return r
}

// runStackServices serves GET /clusters/{c}/services of a stack of n
// services, all running, through the full stack against a bare handler
// that reads the same rows (the current revision and the target's state)
// and writes them as JSON, over HTTP from clients clients each.
func runStackServices(ctx context.Context, db *sqldb.DB, n int, d time.Duration, clients int) result {
	sys := purser.SystemContext(ctx)
	if db.Sealer == nil { // cluster secrets are sealed, as the server seals them
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		s, err := sqldb.NewSealer(key)
		if err != nil {
			log.Fatal(err)
		}
		db.Sealer = s
	}
	cluster := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	c := &purser.Cluster{Name: cluster, Kind: purser.ClusterSim}
	c.RecordCheck(purser.SimulatedVersion, nil, time.Now().UTC().Truncate(time.Microsecond))
	if err := sqldb.NewClusterService(db).CreateCluster(sys, c); err != nil {
		log.Fatal(err)
	}
	stacks := sqldb.NewStackService(db)
	if _, err := stacks.SetSecret(sys, cluster, "SECRET", "bench-secret-value"); err != nil {
		log.Fatal(err)
	}
	text := bigStackfile(n)
	sf, err := stackfile.Parse(text)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := stacks.ProposeRevision(sys, cluster, purser.StackProposal{Source: string(text), Stackfile: sf}); err != nil {
		log.Fatal(err)
	}
	for _, sv := range sf.Normalize().Services {
		if err := stacks.SetActualService(sys, cluster, sv.Name, &purser.ActualService{Spec: sv, RunningCount: sv.Count()}); err != nil {
			log.Fatal(err)
		}
	}
	full, token := newAPI(ctx, db)
	defer full.Close()
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var normalized string
		if err := db.Read.QueryRow(r.Context(), "SELECT normalized FROM stack_revisions WHERE cluster = ? ORDER BY number DESC LIMIT 1", cluster).Scan(&normalized); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		rows, err := db.Read.Query(r.Context(), "SELECT service, spec, running_count FROM stack_services_actual WHERE cluster = ? ORDER BY service", cluster)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer rows.Close()
		type svc struct {
			Service string          `json:"service"`
			Spec    json.RawMessage `json:"spec"`
			Running int             `json:"running_count"`
		}
		var out []svc
		for rows.Next() {
			var s svc
			var spec string
			if err := rows.Scan(&s.Service, &spec, &s.Running); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			s.Spec = json.RawMessage(spec)
			out = append(out, s)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"desired": json.RawMessage(normalized), "actual": out})
	}))
	defer bare.Close()
	path := "/api/v1/clusters/" + cluster + "/services"
	fullURL := func(int, int) string { return full.URL + path }
	bareURL := func(int, int) string { return bare.URL }
	getLoad(fullURL, token, d/5, clients) // warm both
	getLoad(bareURL, "", d/5, clients)
	const rounds = 4
	var r result
	for range rounds {
		b, bcpu := getLoad(bareURL, "", d/rounds, clients)
		p, pcpu := getLoad(fullURL, token, d/rounds, clients)
		r.baseline += b / rounds
		r.purser += p / rounds
		r.baselineCPU += bcpu / rounds
		r.purserCPU += pcpu / rounds
	}
	return r
}
