package purser

import (
	"slices"
	"testing"
	"time"
)

var revNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// history returns a cluster's revisions 1..len(statuses) with those
// statuses, each with a stackfile whose image names its number.
func history(statuses ...RevisionStatus) StackHistory {
	h := StackHistory{Cluster: "staging"}
	for i, st := range statuses {
		sf := &Stackfile{Services: []StackService{{Name: "web", Image: "r/web:" + string(rune('a'+i))}}}
		h.Revisions = append(h.Revisions, &StackRevision{Cluster: "staging", Number: i + 1, Status: st,
			Source: "rev", Stackfile: sf, Normalized: sf.Normalize()})
	}
	return h
}

func statuses(h StackHistory) []RevisionStatus {
	var out []RevisionStatus
	for _, r := range h.Revisions {
		out = append(out, r.Status)
	}
	return out
}

func TestStackRevisionMove(t *testing.T) {
	all := []RevisionStatus{RevisionPending, RevisionApplying, RevisionApplied, RevisionFailed, RevisionSuperseded, RevisionRolledBack, RevisionBlocked}
	allowed := map[[2]RevisionStatus]bool{}
	for from, tos := range revisionMoves {
		for _, to := range tos {
			allowed[[2]RevisionStatus{from, to}] = true
		}
	}
	for _, from := range all {
		for _, to := range all {
			r := &StackRevision{Number: 3, Status: from}
			err := r.Move(to)
			want := allowed[[2]RevisionStatus{from, to}]
			if (err == nil) != want {
				t.Errorf("%s -> %s: err %v, allowed %v", from, to, err, want)
			}
			if err != nil && (ErrorCode(err) != ECONFLICT || r.Status != from) {
				t.Errorf("%s -> %s refused with %q, status now %s", from, to, ErrorCode(err), r.Status)
			}
		}
	}
	// What the issue asks, spelled out.
	for _, tt := range []struct {
		from, to RevisionStatus
		ok       bool
	}{
		{RevisionPending, RevisionApplying, true}, {RevisionApplying, RevisionApplied, true}, {RevisionApplying, RevisionFailed, true},
		{RevisionFailed, RevisionRolledBack, true}, {RevisionBlocked, RevisionApplying, false}, {RevisionBlocked, RevisionPending, false},
		{RevisionApplied, RevisionApplying, true}, {RevisionFailed, RevisionApplying, true}, {RevisionRolledBack, RevisionApplying, false},
		{RevisionSuperseded, RevisionApplying, false}, {RevisionBlocked, RevisionSuperseded, true},
	} {
		if ok := allowed[[2]RevisionStatus{tt.from, tt.to}]; ok != tt.ok {
			t.Errorf("%s -> %s allowed %v, want %v", tt.from, tt.to, ok, tt.ok)
		}
	}
}

func TestStackHistoryPropose(t *testing.T) {
	for _, tt := range []struct {
		name    string
		h       StackHistory
		number  int
		before  []RevisionStatus
		rows    int
		message string
	}{
		{"FirstRevision", history(), 1, nil, 1, ""},
		{"AfterApplied", history(RevisionApplied), 2, []RevisionStatus{RevisionApplied}, 1, ""},
		{"SupersedesPending", history(RevisionApplied, RevisionPending), 3, []RevisionStatus{RevisionApplied, RevisionSuperseded}, 2, ""},
		{"SupersedesApplying", history(RevisionApplying), 2, []RevisionStatus{RevisionSuperseded}, 2, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sf := validStack()
			next := &StackRevision{Author: "ann", Message: "more web", Stackfile: sf, Normalized: sf.Normalize()}
			c, err := tt.h.Propose(next, false, revNow)
			if err != nil {
				t.Fatal(err)
			}
			if next.Number != tt.number || next.Status != RevisionPending || next.Cluster != "staging" || !next.Created.Equal(revNow) {
				t.Fatalf("new revision %d %s %q %v", next.Number, next.Status, next.Cluster, next.Created)
			}
			if got := statuses(tt.h); !slices.Equal(got, tt.before) {
				t.Fatalf("earlier revisions %v, want %v", got, tt.before)
			}
			if len(c.Rows) != tt.rows || c.Rows[len(c.Rows)-1] != Row(next) || len(c.Events) != 1 {
				t.Fatalf("change %+v", c)
			}
		})
	}
	t.Run("ErrNoStackfile", func(t *testing.T) {
		if _, err := history().Propose(&StackRevision{}, false, revNow); err == nil {
			t.Fatal("a revision without a stackfile was accepted")
		}
	})
}

func TestStackHistoryRollback(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		h := history(RevisionApplied, RevisionApplied, RevisionFailed)
		next, c, err := h.Rollback(2, "ann", revNow)
		if err != nil {
			t.Fatal(err)
		}
		if next.Number != 4 || next.RollbackOf != 2 || next.Status != RevisionPending || next.Normalized != h.Revisions[1].Normalized {
			t.Fatalf("new revision %+v: want 4, pending, equal to 2", next)
		}
		if r3 := h.Revisions[2]; r3.Status != RevisionBlocked || r3.BlockedBy != 4 {
			t.Fatalf("revision 3 is %s blocked by %d, want blocked by 4", r3.Status, r3.BlockedBy)
		}
		if len(c.Rows) != 2 || len(c.Events) != 2 || c.Events[1].Action != "stack.rollback" {
			t.Fatalf("change %+v", c)
		}
		// Nothing re-applies the blocked revision until it is unblocked.
		if err := h.Revisions[2].CheckApplicable(); ErrorCode(err) != ECONFLICT {
			t.Fatalf("blocked revision applicable: %v", err)
		}
		if err := h.Revisions[2].Move(RevisionApplying); err == nil {
			t.Fatal("a blocked revision started applying")
		}
		h.Revisions = append(h.Revisions, next)
		if _, _, err := h.Rollback(3, "ann", revNow); ErrorCode(err) != ECONFLICT {
			t.Fatalf("rollback to a blocked revision: %v", err)
		}
		if _, err := h.Unblock(3); err != nil {
			t.Fatal(err)
		}
		if h.Revisions[2].Status != RevisionSuperseded || h.Revisions[2].CheckApplicable() != nil {
			t.Fatalf("unblocked revision is %s", h.Revisions[2].Status)
		}
		if next, _, err := h.Rollback(3, "ann", revNow); err != nil || next.Number != 5 || h.Revisions[3].Status != RevisionBlocked {
			t.Fatalf("rollback to the unblocked revision: %v, %+v", err, next)
		}
	})
	for _, tt := range []struct {
		name string
		h    StackHistory
		to   int
		code string
	}{
		{"ErrUnknownRevision", history(RevisionApplied), 7, ENOTFOUND},
		{"ErrCurrent", history(RevisionApplied, RevisionApplied), 2, ECONFLICT},
		{"ErrBlocked", history(RevisionBlocked, RevisionApplied), 1, ECONFLICT},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := statuses(tt.h)
			if _, _, err := tt.h.Rollback(tt.to, "ann", revNow); ErrorCode(err) != tt.code {
				t.Fatalf("err %v, want %s", err, tt.code)
			}
			if !slices.Equal(statuses(tt.h), before) {
				t.Fatalf("a refused rollback changed the statuses: %v", statuses(tt.h))
			}
		})
	}
	t.Run("ErrUnblockNotBlocked", func(t *testing.T) {
		if _, err := history(RevisionApplied).Unblock(1); ErrorCode(err) != ECONFLICT {
			t.Fatalf("err %v", err)
		}
	})
}

func TestStackHistoryRollBackFailed(t *testing.T) {
	h := history(RevisionApplied, RevisionApplied, RevisionFailed, RevisionFailed)
	next, c, err := h.RollBackFailed(revNow)
	if err != nil {
		t.Fatal(err)
	}
	if next.Number != 5 || next.RollbackOf != 2 || next.Normalized != h.Revisions[1].Normalized || next.Status != RevisionPending {
		t.Fatalf("new revision %+v: want 5, equal to 2 (the newest applied), pending", next)
	}
	if got := statuses(h); !slices.Equal(got, []RevisionStatus{RevisionApplied, RevisionApplied, RevisionFailed, RevisionRolledBack}) {
		t.Fatalf("statuses %v", got)
	}
	if len(c.Rows) != 2 || c.Events[len(c.Events)-1].Action != "stack.auto_rollback" {
		t.Fatalf("change %+v", c)
	}
	for _, tt := range []struct {
		name string
		h    StackHistory
	}{
		{"ErrNotFailed", history(RevisionApplied, RevisionApplied)},
		{"ErrNothingAppliedBefore", history(RevisionFailed, RevisionFailed)},
		{"ErrEmpty", history()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := tt.h.RollBackFailed(revNow); ErrorCode(err) != ECONFLICT {
				t.Fatalf("err %v", err)
			}
		})
	}
}

func TestStackHistoryPrune(t *testing.T) {
	rep := func(st RevisionStatus, n int) []RevisionStatus { return slices.Repeat([]RevisionStatus{st}, n) }
	for _, tt := range []struct {
		name string
		h    StackHistory
		keep int
		want []int
	}{
		{"NothingBelowTheLimit", history(rep(RevisionApplied, 10)...), 10, nil},
		{"KeepTheLastTenApplied", history(rep(RevisionApplied, 13)...), 10, []int{1, 2, 3}},
		{"NewerThanTheTenthKept", history(append(append(rep(RevisionApplied, 3), RevisionFailed, RevisionSuperseded), rep(RevisionApplied, 9)...)...), 10,
			[]int{1, 2}},
		{"OlderNonAppliedPruned", history(RevisionSuperseded, RevisionFailed, RevisionApplied, RevisionApplied), 1, []int{1, 2, 3}},
		{"NeverBlocked", history(RevisionBlocked, RevisionApplied, RevisionApplied, RevisionApplied), 2, []int{2}},
		{"NeverCurrentOrInFlight", history(RevisionPending, RevisionApplied, RevisionApplied), 1, []int{2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.h.Prune(tt.keep); !slices.Equal(got, tt.want) {
				t.Fatalf("Prune(%d) = %v, want %v", tt.keep, got, tt.want)
			}
		})
	}
}
