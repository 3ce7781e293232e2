package purser

import (
	"context"
	"time"
)

// StackRevisionFields are the fields of a cluster's revisions that where
// and sort may name.
var StackRevisionFields = Fields{"number": KindInt, "status": KindString, "author": KindString, "_created": KindTime}

// StackProposal is a stackfile someone proposes as a cluster's next
// revision.
type StackProposal struct {
	Message string
	// Source is the stackfile as given (YAML or JSON text), kept as is.
	Source string
	// Stackfile is Source parsed and validated (internal/stackfile.Parse).
	Stackfile *Stackfile
	// IfMatch, when set, is the number the caller expects the current
	// revision to have (0: no revision yet); EPRECONDITION when another
	// change landed first.
	IfMatch *int
	// Hold keeps the revision pending instead of deploying it (the seed's
	// deploy: false); POST deploy starts it later.
	Hold bool
}

// ClusterSecret is a value a stackfile names ${NAME}. Its value is sealed
// at rest and never returned, but to the reconciler applying a revision.
type ClusterSecret struct {
	Cluster string
	Name    string
	Created time.Time
	Updated time.Time
}

var secretNameRE = boundedPattern(`^[A-Za-z_][A-Za-z0-9_]*$`, 1, 128)

// MaxSecretSize is the largest value a cluster secret may hold.
const MaxSecretSize = 64 << 10

// ValidateSecret checks a cluster secret's name and value.
func ValidateSecret(name, value string) error {
	var fe []FieldError
	if !secretNameRE.MatchString(name) {
		fe = append(fe, FieldError{"name", "pattern", "must be letters, digits and '_', not starting with a digit, at most 128"})
	}
	if len(value) > MaxSecretSize {
		fe = append(fe, FieldError{"value", "max_length", "must be at most 64 KiB"})
	}
	if len(fe) > 0 {
		return Invalid(fe...)
	}
	return nil
}

// CheckSecretRefs refuses a stackfile that names cluster secrets the
// cluster does not have, naming every missing one.
func CheckSecretRefs(cluster string, refs []string, have map[string]bool) error {
	var fe []FieldError
	for _, name := range refs {
		if !have[name] {
			fe = append(fe, FieldError{"stackfile", "secret_exists", "refers to ${" + name + "}, which is not a secret of cluster " + cluster})
		}
	}
	if len(fe) > 0 {
		return Invalid(fe...)
	}
	return nil
}

// CheckIfMatch refuses a change made against a revision that is no longer
// the current one.
func CheckIfMatch(cluster string, want *int, cur *StackRevision) error {
	if want == nil {
		return nil
	}
	have := 0
	if cur != nil {
		have = cur.Number
	}
	if *want != have {
		return Errorf(EPRECONDITION, "the stack of %s is at revision %d, not %d: another change landed first; reload and try again", cluster, have, *want)
	}
	return nil
}

// StackStore keeps each cluster's stack: its numbered revisions, the
// services the sim target runs, and the cluster's secrets. Every method
// authorizes the actor in ctx: reading needs stacks:read, proposing,
// rolling back, unblocking and managing secrets stacks:write, and the
// reconciler's methods stacks:apply (Purser itself). Each write is
// audited; secret values are sealed at rest and never returned but by
// ResolveSecrets.
type StackStore interface {
	// ProposeRevision makes p the cluster's new current revision, pending,
	// authored by the actor, when AuthorizeStackChange allows it
	// (stacks:write, or a deployer of the cluster changing tags and counts
	// only; EFORBIDDEN otherwise): ENOTFOUND for no such cluster, EINVALID when
	// the stackfile names secrets the cluster lacks (each named),
	// EPRECONDITION when p.IfMatch is stale.
	ProposeRevision(ctx context.Context, cluster string, p StackProposal) (*StackRevision, error)
	// StackRevisions returns a page of the cluster's revisions, newest
	// first unless q sorts otherwise.
	StackRevisions(ctx context.Context, cluster string, q Query) ([]*StackRevision, PageInfo, error)
	// StackRevision returns revision n of the cluster, or ENOTFOUND.
	StackRevision(ctx context.Context, cluster string, n int) (*StackRevision, error)
	// RollbackStack proposes a revision equal to revision n and blocks the
	// current one (StackHistory.Rollback); ifMatch as in StackProposal.
	RollbackStack(ctx context.Context, cluster string, n int, ifMatch *int) (*StackRevision, error)
	// UnblockRevision lets blocked revision n be rolled back to again.
	UnblockRevision(ctx context.Context, cluster string, n int) (*StackRevision, error)
	// DeployStack applies the current revision again (StackHistory.Deploy).
	DeployStack(ctx context.Context, cluster string) (*StackRevision, error)
	// CurrentRevision returns the cluster's current revision, or ENOTFOUND.
	CurrentRevision(ctx context.Context, cluster string) (*StackRevision, error)
	// Drift returns the last drift scan of the cluster's stack (ENOTFOUND:
	// never scanned); ScanStackNow enqueues one.
	Drift(ctx context.Context, cluster string) (*DriftState, error)
	ScanStackNow(ctx context.Context, cluster string) error
	// StackState returns what ServiceStatuses compares: the current
	// revision, with its normalised stackfile only (not the one as given),
	// and what the target runs; ENOTFOUND for no cluster or no stack.
	StackState(ctx context.Context, cluster string) (*StackRevision, []ActualService, error)

	// MarkRevision moves revision n to status (applying, applied, failed),
	// as the reconciler goes; ECONFLICT when the status machine forbids it
	// (a blocked revision never starts applying). Marking a revision
	// applied prunes the history (StackHistory.Prune).
	MarkRevision(ctx context.Context, cluster string, n int, status RevisionStatus) (*StackRevision, error)
	// RecordRollout is MarkRevision with the failure's reason and the plan
	// carried out (StackHistory.Mark).
	RecordRollout(ctx context.Context, cluster string, m RolloutMark) (*StackRevision, error)
	// RollBackFailed is StackHistory.RollBackFailed, for the reconciler.
	RollBackFailed(ctx context.Context, cluster string) (*StackRevision, error)
	// ActualServices returns what the sim target runs on the cluster, by
	// service name.
	ActualServices(ctx context.Context, cluster string) ([]ActualService, error)
	// SetActualService records what the sim target runs for a service; nil
	// removes the service.
	SetActualService(ctx context.Context, cluster, service string, actual *ActualService) error

	// SetSecret creates or replaces a cluster secret, and says whether it
	// created it.
	SetSecret(ctx context.Context, cluster, name, value string) (created bool, err error)
	// DeleteSecret removes a cluster secret, or returns ENOTFOUND.
	DeleteSecret(ctx context.Context, cluster, name string) error
	// Secrets lists the cluster's secrets, without their values, by name.
	Secrets(ctx context.Context, cluster string) ([]ClusterSecret, error)
	// ResolveSecrets returns the values of the named secrets, to apply a
	// revision (stacks:apply only); ENOTFOUND names a missing one.
	ResolveSecrets(ctx context.Context, cluster string, names []string) (map[string]string, error)
}

// CheckSecretUnused refuses to delete a secret the current revision
// refers to: the next apply would fail.
func CheckSecretUnused(cur *StackRevision, name string) error {
	if cur == nil || cur.Normalized == nil {
		return nil
	}
	for _, ref := range cur.Normalized.SecretRefs() {
		if ref == name {
			return Errorf(ECONFLICT, "revision %d of %s refers to ${%s}; propose a stackfile without it first", cur.Number, cur.Cluster, name)
		}
	}
	return nil
}
