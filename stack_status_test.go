package purser

import (
	"testing"
)

func TestServiceStatuses(t *testing.T) {
	n := validStack().Normalize()
	tests := []struct {
		name   string
		status RevisionStatus
		actual func() []ActualService
		want   map[string]ServiceState
	}{
		{"InSync", RevisionApplied, func() []ActualService { return running(n) },
			map[string]ServiceState{"web": ServiceInSync, "users": ServiceInSync, "worker": ServiceInSync}},
		{"CountConverging", RevisionApplied, func() []ActualService {
			a := running(n)
			a[0].RunningCount = 0
			return a
		}, map[string]ServiceState{"web": ServiceProgressing, "users": ServiceInSync, "worker": ServiceInSync}},
		{"RolloutUnderWay", RevisionApplying, func() []ActualService {
			a := running(n)
			a[1].Spec.Image = "r/users:0"
			return a[:2]
		}, map[string]ServiceState{"web": ServiceInSync, "users": ServiceProgressing, "worker": ServiceProgressing}},
		{"Drifted", RevisionApplied, func() []ActualService {
			a := running(n)
			a[1].Spec.DesiredCount = intp(5)
			return append(a, ActualService{Spec: StackService{Name: "stray", Image: "r/stray:9"}, RunningCount: 1})
		}, map[string]ServiceState{"web": ServiceInSync, "users": ServiceDrifted, "worker": ServiceInSync, "stray": ServiceDrifted}},
		{"Failed", RevisionFailed, func() []ActualService {
			a := running(n)
			a[0].Spec.Image = "r/web:0"
			return a
		}, map[string]ServiceState{"web": ServiceFailed, "users": ServiceInSync, "worker": ServiceInSync}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ServiceStatuses(&StackRevision{Number: 2, Status: tt.status, Normalized: n}, tt.actual())
			if len(got) != len(tt.want) {
				t.Fatalf("%d rows, want %d: %+v", len(got), len(tt.want), got)
			}
			for _, st := range got {
				if st.State != tt.want[st.Name] {
					t.Errorf("%s is %s, want %s", st.Name, st.State, tt.want[st.Name])
				}
			}
		})
	}
	t.Run("WaitingForDependencies", func(t *testing.T) {
		// web depends on users; while users rolls out, web waits for it.
		a := running(n)
		a[0].Spec.Image, a[1].Spec.Image = "r/web:0", "r/users:0"
		got := ServiceStatuses(&StackRevision{Status: RevisionApplying, Normalized: n}, a)
		if len(got[0].WaitingFor) != 1 || got[0].WaitingFor[0] != "users" || len(got[1].WaitingFor) != 0 {
			t.Fatalf("waiting: web %v, users %v", got[0].WaitingFor, got[1].WaitingFor)
		}
		// Once users is in sync, web waits no more; and an applied
		// revision's drift is not a wait.
		got = ServiceStatuses(&StackRevision{Status: RevisionApplying, Normalized: n}, append([]ActualService{a[0]}, running(n)[1:]...))
		if len(got[0].WaitingFor) != 0 {
			t.Fatalf("web still waits for %v", got[0].WaitingFor)
		}
		got = ServiceStatuses(&StackRevision{Status: RevisionApplied, Normalized: n}, a)
		if len(got[0].WaitingFor) != 0 {
			t.Fatalf("a drifted web waits for %v", got[0].WaitingFor)
		}
	})
	t.Run("Fields", func(t *testing.T) {
		a := running(n)
		a[0].Spec.Image, a[0].RunningCount = "reg:5000/r/web:0", 3
		got := ServiceStatuses(&StackRevision{Status: RevisionApplying, Normalized: n}, a[:1])
		web := got[0]
		if web.Name != "web" || web.DesiredTag != "1" || web.ActualTag != "0" || web.DesiredCount != 1 || web.RunningCount != 3 || !web.Running {
			t.Fatalf("%+v", web)
		}
		if got[2].Name != "worker" || got[2].Running || got[2].DesiredCount != 0 {
			t.Fatalf("worker %+v: not running, desired 0", got[2])
		}
	})
}
