package purser

import (
	"strings"
	"testing"
)

// authored gives every revision of h an author.
func authored(h StackHistory, author string) StackHistory {
	for _, r := range h.Revisions {
		r.Author = author
	}
	return h
}

func TestStackHistoryProposeDeploys(t *testing.T) {
	sf := validStack()
	for _, tt := range []struct {
		name string
		hold bool
		jobs int
	}{{"Deploys", false, 1}, {"HeldStaysPending", true, 0}} {
		t.Run(tt.name, func(t *testing.T) {
			next := &StackRevision{Author: "ann", Stackfile: sf, Normalized: sf.Normalize()}
			c, err := history(RevisionApplied).Propose(next, tt.hold, revNow)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Jobs) != tt.jobs {
				t.Fatalf("jobs %+v, want %d", c.Jobs, tt.jobs)
			}
			if tt.jobs == 1 {
				want := StackReconcileArgs{Cluster: "staging", Revision: 2, Requested: revNow.UnixMicro()}
				if c.Jobs[0] != want {
					t.Fatalf("job %+v, want %+v", c.Jobs[0], want)
				}
				if JobQueue(want.Kind()) != QueueStacks {
					t.Fatalf("reconciles wait in %s", JobQueue(want.Kind()))
				}
			}
		})
	}
}

func TestStackHistoryDeploy(t *testing.T) {
	later := revNow.Add(1)
	for _, tt := range []struct {
		name string
		h    StackHistory
		code string
	}{
		{"HeldPending", history(RevisionApplied, RevisionPending), ""},
		{"Applied", history(RevisionApplied), ""},
		{"Failed", history(RevisionFailed), ""},
		{"Applying", history(RevisionApplying), ""},
		{"Blocked", history(RevisionApplied, RevisionBlocked), ECONFLICT},
		{"RolledBack", history(RevisionApplied, RevisionRolledBack), ECONFLICT},
		{"NoStack", history(), ENOTFOUND},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, c, err := tt.h.Deploy(later)
			if ErrorCode(err) != tt.code {
				t.Fatalf("err %v, want %q", err, tt.code)
			}
			if err != nil {
				return
			}
			cur := tt.h.Current()
			if r != cur || len(c.Rows) != 0 || len(c.Jobs) != 1 ||
				c.Jobs[0] != (StackReconcileArgs{Cluster: "staging", Revision: cur.Number, Requested: later.UnixMicro()}) {
				t.Fatalf("deploy: revision %v change %+v", r, c)
			}
		})
	}
}

func TestStackHistoryMark(t *testing.T) {
	plan := PlanStack(validStack().Normalize(), nil)
	for _, tt := range []struct {
		name   string
		h      StackHistory
		mark   RolloutMark
		code   string
		status RevisionStatus
		event  string
	}{
		{"Starts", history(RevisionApplied, RevisionPending), RolloutMark{Revision: 2, Status: RevisionApplying, Plan: &plan}, "", RevisionApplying, EventDeployStarted},
		{"Resumes", history(RevisionApplying), RolloutMark{Revision: 1, Status: RevisionApplying}, "", RevisionApplying, EventDeployStarted},
		{"Redeploys", history(RevisionApplied), RolloutMark{Revision: 1, Status: RevisionApplying}, "", RevisionApplying, EventDeployStarted},
		{"Finishes", history(RevisionApplying), RolloutMark{Revision: 1, Status: RevisionApplied}, "", RevisionApplied, EventDeployFinished},
		{"Fails", history(RevisionApplying), RolloutMark{Revision: 1, Status: RevisionFailed, Reason: "service web: 0 of 2 tasks healthy"}, "", RevisionFailed, EventDeployFailed},
		{"BlockedNeverStarts", history(RevisionApplied, RevisionBlocked), RolloutMark{Revision: 2, Status: RevisionApplying}, ECONFLICT, RevisionBlocked, ""},
		{"SupersededNeverFinishes", history(RevisionSuperseded), RolloutMark{Revision: 1, Status: RevisionApplied}, ECONFLICT, RevisionSuperseded, ""},
		{"NoSuchRevision", history(RevisionApplied), RolloutMark{Revision: 9, Status: RevisionApplying}, ENOTFOUND, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := authored(tt.h, "ann")
			r, c, _, err := h.Mark(tt.mark)
			if ErrorCode(err) != tt.code {
				t.Fatalf("err %v, want %q", err, tt.code)
			}
			if err != nil {
				if rev, _ := h.Revision(tt.mark.Revision); rev != nil && rev.Status != tt.status {
					t.Fatalf("refused, yet the status became %s", rev.Status)
				}
				return
			}
			if r.Status != tt.status || (tt.status == RevisionFailed) != (r.Reason != "") {
				t.Fatalf("revision %s reason %q", r.Status, r.Reason)
			}
			if len(c.Messages) != 1 || c.Messages[0].Username != "ann" || c.Messages[0].Event != tt.event {
				t.Fatalf("messages %+v", c.Messages)
			}
			if tt.mark.Reason != "" && !strings.Contains(c.Messages[0].Description, tt.mark.Reason) {
				t.Fatalf("the failure's message does not say why: %q", c.Messages[0].Description)
			}
			if tt.mark.Plan != nil && !strings.Contains(c.Messages[0].Description, "Plan: 3 to create, 0 to update, 0 to delete, 0 unchanged.\n• create `users`") {
				t.Fatalf("the start's message does not show the plan: %q", c.Messages[0].Description)
			}
		})
	}
	t.Run("AppliedPrunes", func(t *testing.T) {
		st := []RevisionStatus{}
		for range DefaultRevisionsKept + 2 {
			st = append(st, RevisionApplied)
		}
		st = append(st, RevisionApplying)
		_, c, pruned, err := history(st...).Mark(RolloutMark{Revision: len(st), Status: RevisionApplied})
		if err != nil || len(pruned) != 3 || pruned[0] != 1 {
			t.Fatalf("pruned %v err %v", pruned, err)
		}
		if c.Events[len(c.Events)-1].Action != "stack.prune" {
			t.Fatalf("events %+v", c.Events)
		}
	})
	t.Run("AutomaticRevisionTellsTheFailedOnesAuthor", func(t *testing.T) {
		h := history(RevisionApplied, RevisionRolledBack, RevisionApplying)
		h.Revisions[1].Author, h.Revisions[2].Author = "bob", "purser"
		_, c, _, err := h.Mark(RolloutMark{Revision: 3, Status: RevisionApplied})
		if err != nil || len(c.Messages) != 1 || c.Messages[0].Username != "bob" {
			t.Fatalf("messages %+v err %v", c.Messages, err)
		}
	})
}

func TestStackHistoryRollBackFailedTellsAndDeploys(t *testing.T) {
	h := authored(history(RevisionApplied, RevisionFailed), "ann")
	h.Revisions[1].Reason = "service web: 0 of 1 tasks healthy"
	next, c, err := h.RollBackFailed(revNow)
	if err != nil {
		t.Fatal(err)
	}
	if next.RollbackOf != 1 || h.Revisions[1].Status != RevisionRolledBack {
		t.Fatalf("next %+v, failed one %s", next, h.Revisions[1].Status)
	}
	if len(c.Jobs) != 1 || c.Jobs[0].(StackReconcileArgs).Revision != 3 {
		t.Fatalf("jobs %+v", c.Jobs)
	}
	if len(c.Messages) != 1 || c.Messages[0].Event != EventDeployRolledBack || !strings.Contains(c.Messages[0].Description, "0 of 1 tasks healthy") {
		t.Fatalf("messages %+v", c.Messages)
	}
	// The failed revision is blocked: nothing applies it, not even a
	// rollback to it, until someone unblocks it.
	failed := h.Revisions[1]
	if failed.BlockedBy != 3 || ErrorCode(failed.CheckApplicable()) != ECONFLICT {
		t.Fatalf("the failed revision is not blocked: %+v", failed)
	}
	h.Revisions = append(h.Revisions, next)
	if _, _, err := h.Rollback(2, "ann", revNow); ErrorCode(err) != ECONFLICT {
		t.Fatalf("a rollback to the failed revision: %v", err)
	}
	if _, err := h.Unblock(2); err != nil || failed.Status != RevisionSuperseded || failed.CheckApplicable() != nil {
		t.Fatalf("unblock: %v, %+v", err, failed)
	}
}

func TestPlanSummary(t *testing.T) {
	p := Plan{Services: []ServicePlan{
		{Service: "web", Action: PlanUpdate, Changes: []FieldChange{{Field: "image", Old: "r/web:1", New: "r/web:2"}}},
		{Service: "db", Action: PlanUnchanged},
		{Service: "old", Action: PlanDelete},
	}}
	got := p.Summary()
	for _, want := range []string{"Plan: 0 to create, 1 to update, 1 to delete, 1 unchanged.", "• update `web` (image: r/web:1 → r/web:2)", "• delete `old`"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "`db`") {
		t.Errorf("summary lists an unchanged service:\n%s", got)
	}
}
