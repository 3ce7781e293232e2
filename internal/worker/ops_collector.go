package worker

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/purserhq/purser"
)

// OpsCollector exports what the operators' dashboard and alerts need of
// the store (deploy/grafana, deploy/prometheus): requests by status, their
// transitions, queue lag, pools' capacity and health, quota use, clusters'
// certificate expiry. It reads the store at scrape time, at most every
// MaxAge (several Prometheus servers or a short interval cost no more), so
// every replica reports the same values: aggregate them with max().
type OpsCollector struct {
	Store  purser.OpsFactReader
	MaxAge time.Duration

	mu    sync.Mutex
	at    time.Time
	facts *purser.OpsFacts
	err   error
}

// NewOpsCollector returns the collector over store, reading it at most
// every 10 s.
func NewOpsCollector(store purser.OpsFactReader) *OpsCollector {
	return &OpsCollector{Store: store, MaxAge: 10 * time.Second}
}

func opsDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

var (
	descRequests      = opsDesc("purser_requests", "Provision requests by status.", "status")
	descRequestEvents = opsDesc("purser_request_events_total", "Provision requests' audit events by action (request.deploy, request.fail...), since the store began.", "action")
	descQueueLag      = opsDesc("purser_queue_lag_seconds", "How long the oldest job available in the queue has waited to start (0 when none waits).", "queue")
	descPoolCores     = opsDesc("purser_pool_cores", "Cores a pool asks for.", "pool")
	descPoolMemory    = opsDesc("purser_pool_memory_bytes", "Memory a pool asks for, in bytes.", "pool")
	descPoolSpares    = opsDesc("purser_pool_spares_wanted", "Spare hosts a pool keeps.", "pool")
	descPoolHalted    = opsDesc("purser_pool_halted", "1 while a pool's self-healing is halted (too many unhealthy hosts).", "pool")
	descPoolState     = opsDesc("purser_pool_info", "A pool's state (always 1).", "pool", "state")
	descHosts         = opsDesc("purser_hosts", "Hosts by pool (empty: free), state and whether they are spares.", "pool", "state", "spare")
	descHostCores     = opsDesc("purser_host_cores", "Cores of the hosts by pool (empty: free), state and whether they are spares.", "pool", "state", "spare")
	descHostMemory    = opsDesc("purser_host_memory_bytes", "Memory of the hosts by pool (empty: free), state and whether they are spares, in bytes.", "pool", "state", "spare")
	descQuotaUsed     = opsDesc("purser_quota_used", "What a user with a quota uses: environments, cores, memory (GiB), monthly_cost.", "user", "resource")
	descQuotaLimit    = opsDesc("purser_quota_limit", "A user's effective quota limit, for the limits they have: environments, cores, memory (GiB), monthly_cost.", "user", "resource")
	descCertExpiry    = opsDesc("purser_cluster_certificate_expiry_timestamp_seconds", "When the first certificate in a Kubernetes cluster's credentials expires (Unix seconds).", "cluster")
	descOpsUp         = opsDesc("purser_ops_facts_up", "1 when the last read of the store's operational facts succeeded.")
)

// Describe implements prometheus.Collector.
func (c *OpsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRequests, descRequestEvents, descQueueLag, descPoolCores, descPoolMemory, descPoolSpares,
		descPoolHalted, descPoolState, descHosts, descHostCores, descHostMemory, descQuotaUsed, descQuotaLimit, descCertExpiry, descOpsUp} {
		ch <- d
	}
}

func (c *OpsCollector) read() (*purser.OpsFacts, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || time.Since(c.at) >= c.MaxAge {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c.facts, c.err = c.Store.OpsFacts(ctx)
		c.at = time.Now()
	}
	return c.facts, c.err
}

// Collect implements prometheus.Collector.
func (c *OpsCollector) Collect(ch chan<- prometheus.Metric) {
	f, err := c.read()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if err != nil {
		gauge(descOpsUp, 0)
		return
	}
	gauge(descOpsUp, 1)
	for s, n := range f.Requests {
		gauge(descRequests, float64(n), s)
	}
	for a, n := range f.RequestEvents {
		ch <- prometheus.MustNewConstMetric(descRequestEvents, prometheus.CounterValue, float64(n), a)
	}
	lag := map[string]time.Duration{purser.QueueProvision: 0, purser.QueueNotify: 0, purser.QueueStacks: 0, purser.QueueDefault: 0}
	for q, d := range f.QueueLag {
		lag[q] = d
	}
	for q, d := range lag {
		gauge(descQueueLag, d.Seconds(), q)
	}
	for _, p := range f.Pools {
		gauge(descPoolCores, float64(p.Cores), p.Name)
		gauge(descPoolMemory, float64(p.Memory), p.Name)
		gauge(descPoolSpares, float64(p.Spares), p.Name)
		gauge(descPoolHalted, b2f(p.Halted), p.Name)
		gauge(descPoolState, 1, p.Name, string(p.State))
	}
	for _, g := range f.Hosts {
		spare := strconv.FormatBool(g.Spare)
		gauge(descHosts, float64(g.Count), g.Pool, string(g.State), spare)
		gauge(descHostCores, float64(g.Cores), g.Pool, string(g.State), spare)
		gauge(descHostMemory, float64(g.Memory), g.Pool, string(g.State), spare)
	}
	for _, u := range f.Quotas {
		used := map[string]float64{"environments": u.Used.Environments, "cores": u.Used.Cores, "memory": u.Used.Memory, "monthly_cost": u.Used.MonthlyCost}
		for r, limit := range u.Limits.Doc() {
			gauge(descQuotaUsed, used[r], u.User.Username, r)
			gauge(descQuotaLimit, limit, u.User.Username, r)
		}
	}
	for cl, t := range f.CertExpiry {
		gauge(descCertExpiry, float64(t.Unix()), cl)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
