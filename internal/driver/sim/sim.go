// Package sim is Purser's simulated cloud: a driver that creates nothing
// real, for the demo, tests and benchmarks, and says so in every output.
// It succeeds at once or after a configured delay, fails at a configured
// rate, and keeps a ledger of every call it received in a JSON-lines file
// (fsynced, so it survives a crash) from which tests check that no
// environment was created twice and none was left behind.
package sim

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/purserhq/purser"
)

// Name is the driver's name in templates.
const Name = "sim"

// Entry is one line of the ledger.
type Entry struct {
	Time    time.Time         `json:"time"`
	Op      string            `json:"op"` // provision, destroy
	Request string            `json:"request"`
	Result  string            `json:"result"` // created, existed, destroyed, absent, failed
	Error   string            `json:"error,omitempty"`
	Outputs map[string]string `json:"outputs,omitempty"`
}

// Driver is the simulated cloud.
type Driver struct {
	path string
	// Delay and FailureRate apply when a template's config does not set
	// "delay" (a duration) or "failure_rate" (0 to 1).
	Delay       time.Duration
	FailureRate float64

	mu   sync.Mutex
	live map[string]map[string]string // request -> outputs of what exists
}

var _ purser.Driver = (*Driver)(nil)

// Open opens (creating) the ledger in dir and replays it.
func Open(dir string) (*Driver, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	d := &Driver{path: filepath.Join(dir, "ledger.jsonl"), live: map[string]map[string]string{}}
	entries, err := ReadLedger(d.path)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		switch e.Result {
		case "created":
			d.live[e.Request] = e.Outputs
		case "destroyed":
			delete(d.live, e.Request)
		}
	}
	return d, nil
}

// ReadLedger reads every entry of a ledger file. A torn last line (the
// process died while writing it) is ignored.
func ReadLedger(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Entry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e Entry
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			out = append(out, e)
		}
	}
	return out, sc.Err()
}

// Name implements purser.Driver.
func (d *Driver) Name() string { return Name }

// ResourceTypes implements purser.Driver: it pretends to make anything.
func (d *Driver) ResourceTypes() []string { return []string{"KUBERNETES", "INSTANCE", "S3BUCKET"} }

func (d *Driver) settings(env purser.Environment) (time.Duration, float64) {
	delay, rate := d.Delay, d.FailureRate
	if s, ok := env.Config["delay"].(string); ok {
		if v, err := time.ParseDuration(s); err == nil {
			delay = v
		}
	}
	if f, ok := env.Config["failure_rate"].(float64); ok {
		rate = f
	}
	return delay, rate
}

// wait sleeps for the simulated work, or until ctx ends.
func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Provision creates the environment, or returns the one that exists.
func (d *Driver) Provision(ctx context.Context, env purser.Environment) (map[string]string, error) {
	d.mu.Lock()
	if out, ok := d.live[env.RequestID]; ok {
		d.mu.Unlock()
		return out, d.append(Entry{Op: "provision", Request: env.RequestID, Result: "existed"})
	}
	d.mu.Unlock()
	delay, rate := d.settings(env)
	if err := wait(ctx, delay); err != nil {
		return nil, err
	}
	if rand.Float64() < rate {
		err := fmt.Errorf("simulated failure (failure_rate %g)", rate)
		_ = d.append(Entry{Op: "provision", Request: env.RequestID, Result: "failed", Error: err.Error()})
		return nil, err
	}
	out := map[string]string{
		"simulated": "true: the sim driver created nothing real",
		"endpoint":  "https://" + env.RequestID + ".sim.purser.invalid",
		"username":  env.Owner,
		"password":  fmt.Sprintf("sim-%016x", rand.Uint64()),
	}
	if env.ResourceType == "KUBERNETES" {
		out["kubeconfig"] = Kubeconfig(env.RequestID, env.Owner, out["password"])
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if existing, ok := d.live[env.RequestID]; ok { // a concurrent call won
		return existing, nil
	}
	if err := d.appendLocked(Entry{Op: "provision", Request: env.RequestID, Result: "created", Outputs: out}); err != nil {
		return nil, err
	}
	d.live[env.RequestID] = out
	return out, nil
}

// Destroy removes the environment; destroying what is absent is fine. It
// takes "destroy_delay" from the template's config, else the delay.
func (d *Driver) Destroy(ctx context.Context, env purser.Environment) error {
	delay, _ := d.settings(env)
	if s, ok := env.Config["destroy_delay"].(string); ok {
		if v, err := time.ParseDuration(s); err == nil {
			delay = v
		}
	}
	if err := wait(ctx, delay); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.live[env.RequestID]; !ok {
		return d.appendLocked(Entry{Op: "destroy", Request: env.RequestID, Result: "absent"})
	}
	if err := d.appendLocked(Entry{Op: "destroy", Request: env.RequestID, Result: "destroyed"}); err != nil {
		return err
	}
	delete(d.live, env.RequestID)
	return nil
}

// Simulated names the cluster, context and server of a simulated
// kubeconfig: https://sim.invalid resolves nowhere (RFC 2606), so kubectl
// fails at once rather than reach a real cluster.
const (
	Simulated       = "purser-simulated"
	SimulatedServer = "https://sim.invalid"
)

// Kubeconfig is the kubeconfig of a simulated KUBERNETES environment, so
// that `purser request kubeconfig` can be tried in the demo. Its comment,
// its cluster, context and server all say it is simulated; its namespace
// is the request's and its token the environment's sim password.
func Kubeconfig(requestID, owner, token string) string {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) } // JSON strings are YAML
	ns := q("sim-" + requestID)
	return "# SIMULATED by Purser's sim driver: no cluster exists and this kubeconfig reaches nothing.\n" +
		"# Templates on the kubernetes-namespace driver give real ones.\n" +
		"apiVersion: v1\nkind: Config\n" +
		"clusters:\n- name: " + Simulated + "\n  cluster:\n    server: " + SimulatedServer + "\n" +
		"users:\n- name: " + q(owner) + "\n  user:\n    token: " + q(token) + "\n" +
		"contexts:\n- name: " + Simulated + "\n  context:\n    cluster: " + Simulated + "\n    user: " + q(owner) + "\n    namespace: " + ns + "\n" +
		"current-context: " + Simulated + "\n"
}

// Exists reports whether the environment of a request exists.
func (d *Driver) Exists(requestID string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.live[requestID]
	return ok
}

func (d *Driver) append(e Entry) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.appendLocked(e)
}

// appendLocked writes one entry and syncs it before returning, so that
// what the ledger says happened survives a crash.
func (d *Driver) appendLocked(e Entry) error {
	e.Time = time.Now().UTC()
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(d.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("sim ledger: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("sim ledger: %w", err)
	}
	return f.Sync()
}
