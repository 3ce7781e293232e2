// Package pool is the pool driver: an environment is a pool of in-house
// hosts, sized in cores and memory, placed by the inventory's best fit
// (purser.PlanPool) and destroyed when the environment is purged, so that
// developers get a pool from the catalog, under quota and review, like
// any other environment.
//
// A template names the pool's size through typed parameters, or fixes it
// in its config:
//
//	params:
//	  - {name: cores, type: integer, min: 1, max: 64}
//	  - {name: memory_gib, type: integer, min: 1, max: 256}
//	  - {name: spares, type: integer, default: 0, min: 0, max: 2}
//	  - {name: selector, type: string, pattern: ...}   # "k=v,k=v", added to config's
//	footprint: {cores: cores, memory: memory_gib}      # filled in when left out
//	config:
//	  selector: {rack: "1"}    # labels every host must carry
//	  max_hosts: 8             # also cores, memory_gib, spares, min_hosts
//
// The pool is named after the request (PoolName), so a Provision retried
// after a crash finds the pool the first attempt made instead of making a
// second one. The driver runs nothing on the server: the hosts' own
// agents run the pool's hooks.
package pool

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/purserhq/purser"
)

// Name is the driver's name in templates.
const Name = "pool"

// ResourceType is what the driver makes.
const ResourceType = "POOL"

// Pools is what the driver needs of the store's pool service: the pool
// of an environment, created by best fit, and destroyed.
type Pools interface {
	FindPoolByName(ctx context.Context, name string) (*purser.Pool, error)
	CreatePool(ctx context.Context, p *purser.Pool, dryRun bool) (*purser.Placement, error)
	DestroyPool(ctx context.Context, name string) (*purser.Pool, error)
}

// Hosts is what the driver needs of the host service: a pool's hosts,
// for the outputs.
type Hosts interface {
	FindHosts(ctx context.Context, q purser.Query) ([]*purser.Host, purser.PageInfo, error)
}

// Driver makes pools from templates. It acts on the store as Purser
// itself (the request was reviewed and its quota reserved already).
type Driver struct {
	Pools Pools
	Hosts Hosts
}

var (
	_ purser.Driver           = (*Driver)(nil)
	_ purser.TemplatePreparer = (*Driver)(nil)
)

// Name implements purser.Driver.
func (d *Driver) Name() string { return Name }

// ResourceTypes implements purser.Driver.
func (d *Driver) ResourceTypes() []string { return []string{ResourceType} }

// PoolName is the name of a request's pool: "env-" and the request's id,
// lower-cased; an id that would not make a DNS label is hashed instead.
func PoolName(requestID string) string {
	name := "env-" + strings.ToLower(requestID)
	if len(name) <= 63 && dnsLabel.MatchString(name) {
		return name
	}
	sum := sha256.Sum256([]byte(requestID))
	return "env-" + hex.EncodeToString(sum[:10])
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// Provision creates the environment's pool by best fit, or finds the one
// an earlier attempt made, and returns its outputs: pool, members,
// spares, cores, memory and, when the pool registered one, cluster. When
// the free inventory cannot hold it the error says what is free.
func (d *Driver) Provision(ctx context.Context, env purser.Environment) (map[string]string, error) {
	want, err := Spec(env)
	if err != nil {
		return nil, err
	}
	if err := covered(want, env.Footprint); err != nil {
		return nil, err
	}
	sys := purser.SystemContext(ctx)
	p, err := d.Pools.FindPoolByName(sys, want.Name)
	switch {
	case err == nil:
		note(env, "pool "+p.Name+" exists already (an earlier attempt made it)")
	case purser.ErrorCode(err) != purser.ENOTFOUND:
		return nil, fmt.Errorf("find pool %s: %w", want.Name, err)
	default:
		note(env, fmt.Sprintf("placing pool %s: %s, %d spare(s)%s", want.Name, want.Size(), want.Spares, selectorNote(want.Selector)))
		if _, cerr := d.Pools.CreatePool(sys, want, false); cerr != nil {
			// A concurrent attempt may have made it meanwhile.
			if p, err = d.Pools.FindPoolByName(sys, want.Name); err != nil {
				return nil, cerr
			}
		} else {
			p = want
		}
	}
	if p.State == purser.PoolDestroyFailed {
		return nil, purser.Errorf(purser.ECONFLICT, "pool %s is %s: %s", p.Name, p.State, p.Status)
	}
	return d.outputs(sys, p)
}

// outputs reads the pool's hosts and describes it.
func (d *Driver) outputs(ctx context.Context, p *purser.Pool) (map[string]string, error) {
	hosts, _, err := d.Hosts.FindHosts(ctx, purser.Query{Page: 1, MaxResults: purser.MaxMaxResults, SkipTotal: true,
		Where: []purser.Cond{{Field: "pool", Op: "$eq", Value: p.Name}}})
	if err != nil {
		return nil, fmt.Errorf("hosts of pool %s: %w", p.Name, err)
	}
	members, spares := purser.PoolHosts(p.Name, hosts)
	total := purser.Total(members)
	out := map[string]string{
		"pool":    p.Name,
		"members": names(members),
		"spares":  names(spares),
		"cores":   strconv.Itoa(total.Cores),
		"memory":  purser.FormatBytes(total.Memory),
	}
	if p.Cluster != "" { // the pool's control plane, a Purser cluster
		out["cluster"] = p.Cluster
	}
	return out, nil
}

// Destroy destroys the environment's pool: its hosts go back to the free
// inventory. A pool that is gone already is not an error; one left
// DESTROY_FAILED (a host did not answer) fails the purge with the pool's
// reason, and a retried purge tries again.
func (d *Driver) Destroy(ctx context.Context, env purser.Environment) error {
	name := PoolName(env.RequestID)
	p, err := d.Pools.DestroyPool(purser.SystemContext(ctx), name)
	switch {
	case purser.ErrorCode(err) == purser.ENOTFOUND:
		note(env, "pool "+name+" is gone already")
		return nil
	case err != nil:
		return fmt.Errorf("destroy pool %s: %w", name, err)
	case p != nil:
		return purser.Errorf(purser.ECONFLICT, "pool %s is %s: %s", p.Name, p.State, p.Status)
	}
	note(env, "pool "+name+" destroyed: its hosts are back in the free inventory")
	return nil
}

// covered refuses a pool larger than the footprint its request counted
// against the quota: a template whose footprint left the pool out would
// let it escape the quota.
func covered(p *purser.Pool, fp purser.Footprint) error {
	const eps = 1e-9
	var short []string
	if float64(p.Cores) > fp.Cores+eps {
		short = append(short, fmt.Sprintf("%d cores (footprint.cores counted %s)", p.Cores, purser.Num(fp.Cores)))
	}
	if gib := float64(p.Memory) / float64(purser.GiB); gib > fp.Memory+eps {
		short = append(short, fmt.Sprintf("%s GiB (footprint.memory counted %s)", purser.Num(gib), purser.Num(fp.Memory)))
	}
	if len(short) == 0 {
		return nil
	}
	return purser.Errorf(purser.EINVALID, "pool %s asks %s against the quota: the template's footprint must count the pool's size",
		p.Name, strings.Join(short, " and "))
}

func note(env purser.Environment, line string) {
	if env.Log != nil {
		env.Log.WriteLine("purser", line)
	}
}

func selectorNote(sel map[string]string) string {
	if len(sel) == 0 {
		return ""
	}
	return ", hosts labelled " + FormatSelector(sel)
}

func names(hs []*purser.Host) string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.Name
	}
	return strings.Join(out, ",")
}

// FormatSelector writes labels as "k=v,k=v", sorted by key.
func FormatSelector(sel map[string]string) string {
	keys := make([]string, 0, len(sel))
	for k := range sel {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + sel[k]
	}
	return strings.Join(parts, ",")
}

// ParseSelector reads "k=v,k=v" (spaces around items ignored; "" is none).
func ParseSelector(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("%q is not a label: write key=value", item)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

// Spec is the pool an environment asks for: each of cores, memory_gib,
// spares from the request's parameter of that name, else the template's
// config; min_hosts and max_hosts from the config; the selector the
// config's labels plus the parameter's, which may not contradict them.
func Spec(env purser.Environment) (*purser.Pool, error) {
	num := func(name string) (float64, error) {
		v, ok := env.Params[name]
		if !ok {
			v, ok = env.Config[name]
		}
		if !ok || v == nil {
			return 0, nil
		}
		f, ok := number(v)
		if !ok || f < 0 || f > 1<<40 {
			return 0, purser.Errorf(purser.EINVALID, "%s is %v: give a number of at least 0", name, v)
		}
		return f, nil
	}
	var f [5]float64
	for i, name := range []string{"cores", "memory_gib", "spares", "min_hosts", "max_hosts"} {
		var err error
		if f[i], err = num(name); err != nil {
			return nil, err
		}
	}
	sel, err := configSelector(env.Config)
	if err != nil {
		return nil, err
	}
	if s, ok := env.Params["selector"].(string); ok {
		extra, err := ParseSelector(s)
		if err != nil {
			return nil, purser.Errorf(purser.EINVALID, "selector: %v", err)
		}
		for k, v := range extra {
			if fixed, ok := sel[k]; ok && fixed != v {
				return nil, purser.Errorf(purser.EINVALID, "selector: the template fixes %s=%s; %s=%s contradicts it", k, fixed, k, v)
			}
			sel[k] = v
		}
	}
	p := &purser.Pool{Name: PoolName(env.RequestID), Cores: int(math.Ceil(f[0])), Memory: int64(math.Ceil(f[1] * float64(purser.GiB))),
		Spares: int(f[2]), MinHosts: int(f[3]), MaxHosts: int(f[4]), Selector: sel}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

func configSelector(config map[string]any) (map[string]string, error) {
	sel := map[string]string{}
	raw, ok := config["selector"]
	if !ok || raw == nil {
		return sel, nil
	}
	switch m := raw.(type) {
	case map[string]any:
		for k, v := range m {
			s, ok := v.(string)
			if !ok {
				return nil, purser.Errorf(purser.EINVALID, "config.selector.%s must be a string", k)
			}
			sel[k] = s
		}
	case map[string]string:
		maps.Copy(sel, m)
	default:
		return nil, purser.Errorf(purser.EINVALID, "config.selector must be a map of labels")
	}
	return sel, nil
}

// number reads a JSON or YAML number, or a parameter's int64.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, !math.IsNaN(n) && !math.IsInf(n, 0)
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case uint64:
		return float64(n), true
	}
	return 0, false
}
