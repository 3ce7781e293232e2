package purser

import (
	"context"
	"time"
)

// StackSummary is one cluster's stack as a list shows it: its current
// revision, how many services it names, and whether the last drift scan
// found the target drifted.
type StackSummary struct {
	Cluster     string
	ClusterKind string
	Revision    int
	Status      RevisionStatus
	Author      string
	Message     string
	Created     time.Time
	Services    int
	// Drifted is set when the last drift scan found a difference;
	// DriftChecked is when that scan ran (nil: never scanned).
	Drifted      bool
	DriftChecked *time.Time
}

// MaxStackSummaries bounds a StackSummaries answer.
const MaxStackSummaries = 500

// StackLister lists every cluster's stack in one read, for pages that
// show many (stacks:read).
type StackLister interface {
	// StackSummaries returns the stack of each cluster that has one, by
	// cluster name, at most MaxStackSummaries.
	StackSummaries(ctx context.Context) ([]StackSummary, error)
}
