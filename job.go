package purser

import (
	"context"
	"time"
)

// JobArgs are the arguments of a job a change enqueues. River's JobArgs
// interface is the same method, so every type here is a River job as is.
type JobArgs interface {
	// Kind names the job; a worker is registered per kind.
	Kind() string
}

// AnalyseArgs asks to estimate a new request and approve it when its
// template's policy allows.
type AnalyseArgs struct {
	RequestID string `json:"request_id"`
}

// Kind names the job.
func (AnalyseArgs) Kind() string { return "analyse" }

// ProvisionArgs asks to create a request's environment.
type ProvisionArgs struct {
	RequestID string `json:"request_id"`
}

// Kind names the job.
func (ProvisionArgs) Kind() string { return "provision" }

// PurgeArgs asks to destroy a request's environment.
type PurgeArgs struct {
	RequestID string `json:"request_id"`
}

// Kind names the job.
func (PurgeArgs) Kind() string { return "purge" }

// NotifyArgs asks to deliver one notification.
type NotifyArgs struct {
	NotificationID string `json:"notification_id"`
}

// Kind names the job.
func (NotifyArgs) Kind() string { return "notify" }

// RefreshArgs asks to issue an extended environment's credentials again.
type RefreshArgs struct {
	RequestID string `json:"request_id"`
}

// Kind names the job.
func (RefreshArgs) Kind() string { return "refresh" }

// ExpireArgs asks to expire what is past its time and send reminders.
type ExpireArgs struct{}

// Kind names the job.
func (ExpireArgs) Kind() string { return "expire" }

// The queues jobs wait in. Each has its own workers, so that creating and
// destroying environments never waits behind a burst of notifications or
// analyses.
const (
	// QueueProvision holds the jobs that create and destroy environments
	// and the expiry sweep that starts purges.
	QueueProvision = "provision"
	// QueueNotify holds notification deliveries.
	QueueNotify = "notify"
	// QueueDefault holds every other job (analyses, credential refreshes,
	// maintenance), and the jobs enqueued before queues were split.
	QueueDefault = "default"
)

// JobQueue names the queue a job of kind waits in.
func JobQueue(kind string) string {
	switch kind {
	case ProvisionArgs{}.Kind(), PurgeArgs{}.Kind(), ExpireArgs{}.Kind():
		return QueueProvision
	case NotifyArgs{}.Kind():
		return QueueNotify
	case StackReconcileArgs{}.Kind(), StackDriftArgs{}.Kind():
		return QueueStacks
	}
	return QueueDefault
}

// AbandonedJob is a job whose replica stopped (a crash, a lost machine)
// while it ran the job's last attempt: nothing will retry it.
type AbandonedJob struct {
	ID        int64
	Kind      string
	RequestID string // for jobs about a request: provision, purge, analyse, refresh
	Replica   string // the River client ID of the replica that stopped
}

// JobCount is how many jobs of a kind are in a queue state.
type JobCount struct {
	Kind, State string
	Count       int
}

// JobCounter counts the queue's jobs, for metrics.
type JobCounter interface {
	// JobCounts counts jobs by kind and state.
	JobCounts(ctx context.Context) ([]JobCount, error)
}

// TokenSweeper deletes tokens nobody can use any more.
type TokenSweeper interface {
	// DeleteStaleTokens deletes tokens revoked or expired before cutoff
	// and returns how many.
	DeleteStaleTokens(ctx context.Context, cutoff time.Time) (int64, error)
}
