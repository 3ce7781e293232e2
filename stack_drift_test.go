package purser

import (
	"testing"
	"time"
)

func TestDriftScan(t *testing.T) {
	sf := validStack()
	r := &StackRevision{Cluster: "staging", Number: 4, Status: RevisionApplied, Normalized: sf.Normalize()}
	inSync := make([]ActualService, len(r.Normalized.Services))
	for i, sv := range r.Normalized.Services {
		inSync[i] = ActualService{Spec: sv, RunningCount: sv.Count()}
	}
	drifted := append([]ActualService(nil), inSync...)
	drifted[0].Spec.Image = "r/hand-made:1"
	drifted2 := append([]ActualService(nil), drifted...)
	drifted2[1].Spec.Image = "r/hand-made:2"
	earlier := revNow.Add(-time.Hour)
	for _, tt := range []struct {
		name              string
		mode              DriftMode
		actual            []ActualService
		prev              *DriftState
		drifted           bool
		told, fixed       bool
		since             time.Time
		endedEventWritten bool
	}{
		{"InSync", "", inSync, nil, false, false, false, time.Time{}, false},
		{"FirstSeenIsTold", DriftWarn, drifted, nil, true, true, false, revNow, false},
		{"SameDriftNotToldAgain", DriftWarn, drifted, nil, true, false, false, earlier, false},
		{"ChangedDriftToldAgain", DriftWarn, drifted2, nil, true, true, false, earlier, false},
		{"CorrectReapplies", DriftCorrect, drifted, nil, true, true, true, revNow, false},
		{"IgnoreRecordsOnly", DriftIgnore, drifted, nil, true, false, false, revNow, false},
		{"Ended", DriftWarn, inSync, nil, false, false, false, time.Time{}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &Cluster{Name: "staging", Kind: ClusterSim, DriftMode: tt.mode}
			prev := tt.prev
			switch tt.name {
			case "SameDriftNotToldAgain", "ChangedDriftToldAgain", "Ended":
				first, _ := DriftScan(c, r, drifted, nil, earlier)
				prev = first
			}
			st, ch := DriftScan(c, r, tt.actual, prev, revNow)
			if st.Drifted != tt.drifted || (len(ch.ToReviewers) == 1) != tt.told || (len(ch.Jobs) == 1) != tt.fixed {
				t.Fatalf("state %+v change %+v", st, ch)
			}
			if tt.drifted && (st.Since == nil || !st.Since.Equal(tt.since) || len(st.Services) == 0 || st.Fingerprint == "") {
				t.Fatalf("drift state %+v, since want %v", st, tt.since)
			}
			if tt.fixed && ch.Jobs[0] != (StackReconcileArgs{Cluster: "staging", Revision: 4, Requested: revNow.UnixMicro()}) {
				t.Fatalf("the correction %+v", ch.Jobs[0])
			}
			if ended := len(ch.Events) == 1 && ch.Events[0].Action == "stack.drift_ended"; ended != tt.endedEventWritten {
				t.Fatalf("events %+v", ch.Events)
			}
		})
	}
}
