package purser

import (
	"slices"
	"strings"
)

// ServiceState is how a service stands against its desired state.
type ServiceState string

// Service states.
const (
	ServiceInSync      ServiceState = "in_sync"     // runs as desired, at the desired count
	ServiceProgressing ServiceState = "progressing" // a rollout is under way, or the count is converging
	ServiceDrifted     ServiceState = "drifted"     // differs from an applied revision, with no rollout under way
	ServiceFailed      ServiceState = "failed"      // differs, and the rollout that was to fix it failed
)

// ServiceStatus is one service's desired and actual state: a row of GET
// /clusters/{c}/services. Desired fields are empty for a service only the
// target runs (about to be deleted); actual ones for a service not running.
type ServiceStatus struct {
	Name                     string
	DesiredImage, DesiredTag string
	ActualImage, ActualTag   string
	DesiredCount             int
	RunningCount             int
	Running                  bool // the target runs the service
	State                    ServiceState
	// WaitingFor names the services it depends on that are not yet in
	// sync while a rollout is under way: the reconciler applies a service
	// once those it depends on are healthy.
	WaitingFor []string
}

// ServiceStatuses compares the current revision's normalised stackfile
// with what the target runs: the desired services in stackfile order, then
// those only the target runs, by name. A service that differs is
// progressing while its revision is pending or applying, failed when that
// revision failed or was rolled back, and drifted otherwise; one that
// matches is in sync at the desired count, else progressing.
func ServiceStatuses(current *StackRevision, actual []ActualService) []ServiceStatus {
	byName := make(map[string]*ActualService, len(actual))
	for i := range actual {
		byName[strings.ToLower(actual[i].Spec.Name)] = &actual[i]
	}
	differs := ServiceDrifted
	switch current.Status {
	case RevisionPending, RevisionApplying:
		differs = ServiceProgressing
	case RevisionFailed, RevisionRolledBack:
		differs = ServiceFailed
	}
	var out []ServiceStatus
	seen := map[string]bool{}
	for i := range current.Normalized.Services {
		sv := &current.Normalized.Services[i]
		st := ServiceStatus{Name: sv.Name, DesiredImage: sv.Image, DesiredCount: sv.Count(), State: differs}
		_, st.DesiredTag = SplitImage(sv.Image)
		key := strings.ToLower(sv.Name)
		seen[key] = true
		if a, ok := byName[key]; ok {
			st.Running, st.ActualImage, st.RunningCount = true, a.Spec.Image, a.RunningCount
			_, st.ActualTag = SplitImage(a.Spec.Image)
			if len(ServiceChanges(&a.Spec, sv)) == 0 {
				st.State = ServiceInSync
				if a.RunningCount != sv.Count() {
					st.State = ServiceProgressing
				}
			}
		}
		out = append(out, st)
	}
	var extra []ServiceStatus
	for i := range actual {
		a := &actual[i]
		if seen[strings.ToLower(a.Spec.Name)] {
			continue
		}
		st := ServiceStatus{Name: a.Spec.Name, ActualImage: a.Spec.Image, RunningCount: a.RunningCount, Running: true, State: differs}
		_, st.ActualTag = SplitImage(a.Spec.Image)
		extra = append(extra, st)
	}
	if differs == ServiceProgressing {
		state := make(map[string]ServiceState, len(out))
		for _, st := range out {
			state[st.Name] = st.State
		}
		for i := range out {
			if sv := current.Normalized.Service(out[i].Name); sv != nil && out[i].State != ServiceInSync {
				for _, dep := range sv.DependsOn {
					if st, ok := state[dep]; ok && st != ServiceInSync {
						out[i].WaitingFor = append(out[i].WaitingFor, dep)
					}
				}
			}
		}
	}
	slices.SortFunc(extra, func(a, b ServiceStatus) int { return strings.Compare(a.Name, b.Name) })
	return append(out, extra...)
}
