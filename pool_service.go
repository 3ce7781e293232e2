package purser

import (
	"context"
	"time"
)

// HostService manages the inventory of hosts. Reading needs hosts:read
// (or being the host's own agent), changing hosts:write; registration
// needs a join token and heartbeats the host's own agent.
type HostService interface {
	// FindHostByName returns the host, or ENOTFOUND.
	FindHostByName(ctx context.Context, name string) (*Host, error)
	// FindHosts returns a page of hosts and how many match q in all.
	FindHosts(ctx context.Context, q Query) ([]*Host, PageInfo, error)
	// RegisterHost registers (or registers again) the host an agent
	// reports, with a join token's secret, and returns it with the agent's
	// credential (shown once). EUNAUTHORIZED for a bad token.
	RegisterHost(ctx context.Context, joinSecret string, reported Host) (*Host, string, error)
	// Heartbeat records that the host's agent reports now.
	Heartbeat(ctx context.Context, name string) (*Host, error)
	// LabelHost sets labels (an empty value removes one).
	LabelHost(ctx context.Context, name string, set map[string]string) (*Host, error)
	// SetMaintenance puts a free host under maintenance or back.
	SetMaintenance(ctx context.Context, name string, on bool) (*Host, error)
	// RetireHost retires a free host for good.
	RetireHost(ctx context.Context, name string) (*Host, error)
}

// JoinTokenService manages join tokens (join_tokens:write).
type JoinTokenService interface {
	// CreateJoinToken creates a token and returns it with its secret,
	// which is not kept.
	CreateJoinToken(ctx context.Context, description string, reusable bool, ttl time.Duration) (*JoinToken, string, error)
	// FindJoinTokens returns a page of tokens, without secrets.
	FindJoinTokens(ctx context.Context, q Query) ([]*JoinToken, PageInfo, error)
	// RevokeJoinToken stops a token from registering hosts; ENOTFOUND
	// when there is none.
	RevokeJoinToken(ctx context.Context, id string) (*JoinToken, error)
}

// PoolService manages pools (pools:read, pools:write). Every change is
// decided by the domain (CreatePool, Pool.Resize...) and committed with
// its hosts' moves in one transaction.
type PoolService interface {
	// FindPoolByName returns the pool, or ENOTFOUND.
	FindPoolByName(ctx context.Context, name string) (*Pool, error)
	// FindPools returns a page of pools and how many match q in all.
	FindPools(ctx context.Context, q Query) ([]*Pool, PageInfo, error)
	// CreatePool places and creates p, or with dryRun only plans it.
	CreatePool(ctx context.Context, p *Pool, dryRun bool) (*Placement, error)
	// ResizePool resizes the pool to target (absolute), or with dryRun
	// only plans it; an overshoot needs confirm.
	ResizePool(ctx context.Context, name string, target Resources, confirm, dryRun bool) (*ResizePlan, error)
	// DestroyPool releases every host and removes the pool (nil), or
	// returns it DESTROY_FAILED naming the hosts that did not leave.
	DestroyPool(ctx context.Context, name string) (*Pool, error)
	// AddNode makes a free host (or a spare) a member.
	AddNode(ctx context.Context, pool, host string) (*Host, error)
	// RemoveNode releases a host to the free inventory.
	RemoveNode(ctx context.Context, pool, host string) (*Host, error)
	// DrainNode starts draining a member, to leave by the deadline.
	DrainNode(ctx context.Context, pool, host string, deadline time.Duration) (*Host, error)
	// SetPoolHooks changes the pool's hooks; runs already queued keep
	// theirs.
	SetPoolHooks(ctx context.Context, name string, hooks PoolHooks) (*Pool, error)
}

// HookRunService hands hosts' hook runs to their agents and keeps their
// output. Claiming, logging and finishing are the host's own agent's;
// reading needs hosts:read (or being the agent), a reboot hosts:write.
type HookRunService interface {
	// ClaimHookRuns returns the host's pending runs, rendered and now
	// RUNNING, in the order queued, and how long a run may take from
	// when it was queued.
	ClaimHookRuns(ctx context.Context, host string) ([]*HookRun, time.Duration, error)
	// AppendHookLog appends output lines to a running run's log.
	AppendHookLog(ctx context.Context, host, id string, lines []LogLine) error
	// FinishHookRun records a run's exit (errMsg: it could not start)
	// and what it implies (FinishHookRun).
	FinishHookRun(ctx context.Context, host, id string, exit int, errMsg string) (*HookRun, error)
	// FindHookRuns returns a page of the host's runs.
	FindHookRuns(ctx context.Context, host string, q Query) ([]*HookRun, PageInfo, error)
	// FindHookRunLogs returns a run's log lines after seq, at most limit.
	FindHookRunLogs(ctx context.Context, host, id string, afterSeq int64, limit int) ([]LogLine, error)
	// RebootHost queues the reboot hook of the host's pool.
	RebootHost(ctx context.Context, host string) (*HookRun, error)
}

// PoolHealthStore is what the health sweep needs of the store: each
// method loads the facts, calls the domain's decision (Host.Health,
// Pool.Heal, Host.FinishDrain) and commits its Change, and returns how
// many changes it committed.
type PoolHealthStore interface {
	// CheckHostHealth applies Host.Health to every watched host.
	CheckHostHealth(ctx context.Context, p HealthPolicy) (int, error)
	// HealPools applies Pool.Heal to every active pool.
	HealPools(ctx context.Context) (int, error)
	// FinishDrains releases every DRAINING host: a drain waits for nothing
	// when no pool has a Kubernetes API to evict through.
	FinishDrains(ctx context.Context) (int, error)
	// ExpireHookRuns fails the hook runs still open past timeout
	// (ExpireHookRun): a join that never finished places another host.
	ExpireHookRuns(ctx context.Context, timeout time.Duration) (int, error)
	// PoolsToSweep returns the active pools and the whole inventory.
	PoolsToSweep(ctx context.Context) ([]*Pool, []*Host, error)
	// RecordDrain applies Host.Drained with one pass of the host's drain,
	// and reports whether it changed anything.
	RecordDrain(ctx context.Context, host string, s DrainStep) (bool, error)
	// AutoscalePool applies Pool.Autoscale with the pool's usage or, when
	// u is nil, Pool.AutoscaleOff with why; it reports whether it changed
	// anything.
	AutoscalePool(ctx context.Context, pool string, u *PoolUsage, why string, p ScalePolicy) (bool, error)
}

// PoolCluster is a pool's Kubernetes API as the sweep uses it; a host's
// node is named after it.
type PoolCluster interface {
	// Usage reads the pool's usage over its members' nodes (every pending
	// pod of the cluster counts).
	Usage(ctx context.Context, members []string) (PoolUsage, error)
	// Drain cordons the node and asks an eviction of each of its pods
	// (force: deletes them instead) and says what is left; a missing node
	// has nothing left.
	Drain(ctx context.Context, node string, force bool) (DrainStep, error)
	// Uncordon makes a node Purser cordoned schedulable again (its host
	// is a member again).
	Uncordon(ctx context.Context, node string) error
}

// PoolSweepArgs asks to sweep hosts' health and heal pools (periodic, on
// the leader).
type PoolSweepArgs struct{}

// Kind names the job.
func (PoolSweepArgs) Kind() string { return "pool_sweep" }
