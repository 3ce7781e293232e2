package purser

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// running returns what a target runs after applying n exactly.
func running(n *Stackfile) []ActualService {
	out := make([]ActualService, len(n.Services))
	for i, sv := range n.Services {
		out[i] = ActualService{Spec: sv, RunningCount: sv.Count()}
	}
	return out
}

// summary is a plan as "service:action" in order.
func summary(p Plan) string {
	var out []string
	for _, s := range p.Services {
		out = append(out, s.Service+":"+string(s.Action))
	}
	return strings.Join(out, " ")
}

func TestPlanStack(t *testing.T) {
	desired := validStack().Normalize()
	tests := []struct {
		name    string
		actual  func() []ActualService
		summary string
		service string        // the service whose plan is checked below
		changes []FieldChange // its changes
		rollout bool
		reason  string
	}{
		{"CreateAllOnAnEmptyTarget", func() []ActualService { return nil },
			"users:create web:create worker:create", "web", nil, true, "not running on the target"},
		{"UnchangedWhenTheTargetMatches", func() []ActualService { return running(desired) },
			"users:unchanged web:unchanged worker:unchanged", "web", nil, false, "matches the desired state"},
		{"UpdateImage", func() []ActualService {
			a := running(desired)
			a[0].Spec.Image = "r/web:0"
			return a
		}, "users:unchanged web:update worker:unchanged", "web", []FieldChange{{"image", "r/web:0", "r/web:1"}}, true, "changed: image"},
		{"ScaleOnly", func() []ActualService {
			a := running(desired)
			a[2].Spec.DesiredCount = intp(3)
			return a
		}, "users:unchanged web:unchanged worker:update", "worker", []FieldChange{{"desired_count", "3", "0"}}, false, "scale from 3 to 0"},
		{"UpdateFieldByField", func() []ActualService {
			a := running(desired)
			a[1].Spec.Memory = 512
			a[1].Spec.Ports = []string{"81:80"}
			a[1].Spec.Environment = append(a[1].Spec.Environment[:0:0], EnvVar{"GONE", "x"}, EnvVar{"LEVEL", "DEBUG"}, EnvVar{"SERVER_PORT", "80"})
			return a
		}, "users:update web:unchanged worker:unchanged", "users", []FieldChange{
			{"memory", "512", "930"}, {"environment.GONE", "x", ""}, {"environment.LEVEL", "DEBUG", "INFO"}, {"ports", "81:80", "80:80"},
		}, true, "changed: memory, environment.GONE, environment.LEVEL, ports"},
		{"DeleteWhatIsNoLongerDesired", func() []ActualService {
			return append(running(desired), ActualService{Spec: StackService{Name: "old-b", Image: "x"}}, ActualService{Spec: StackService{Name: "old-a", Image: "x"}})
		}, "users:unchanged web:unchanged worker:unchanged old-a:delete old-b:delete", "old-a", nil, false, "not in the desired state"},
		{"NamesMatchIgnoringCase", func() []ActualService {
			a := running(desired)
			a[0].Spec.Name = "WEB"
			return a
		}, "users:unchanged web:unchanged worker:unchanged", "web", nil, false, "matches the desired state"},
		{"SecretReferencesCompareUnresolved", func() []ActualService {
			a := running(desired)
			a[2].Spec.Environment = append(a[2].Spec.Environment, EnvVar{"PW", "${PW}"})
			return a
		}, "users:unchanged web:unchanged worker:update", "worker", []FieldChange{{"environment.PW", "${PW}", ""}}, true, "changed: environment.PW"},
		{"ELBChange", func() []ActualService {
			a := running(desired)
			elb := *a[0].Spec.ELB
			elb.Type = ELBPrivate
			a[0].Spec.ELB = &elb
			return a
		}, "users:unchanged web:update worker:unchanged", "web", []FieldChange{{"elb", jsonText(&ELB{Type: "private", Protocol: "HTTP", Ports: ELBPorts{443, 8080}, Healthcheck: desired.Services[0].ELB.Healthcheck}), jsonText(desired.Services[0].ELB)}}, true, "changed: elb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := PlanStack(desired, tt.actual())
			if got := summary(p); got != tt.summary {
				t.Fatalf("plan %s, want %s", got, tt.summary)
			}
			for _, sp := range p.Services {
				if sp.Service != tt.service {
					continue
				}
				if d := cmp.Diff(tt.changes, sp.Changes); d != "" {
					t.Errorf("changes (-want +got):\n%s", d)
				}
				if sp.Rollout != tt.rollout || sp.Reason != tt.reason {
					t.Errorf("rollout %v reason %q, want %v %q", sp.Rollout, sp.Reason, tt.rollout, tt.reason)
				}
			}
		})
	}
}

func TestPlanStackIsDeterministic(t *testing.T) {
	desired := bigStack(200).Normalize()
	actual := running(desired)[50:]
	actual = append(actual, ActualService{Spec: StackService{Name: "zz"}}, ActualService{Spec: StackService{Name: "aa"}})
	first := PlanStack(desired, actual)
	for range 20 {
		if d := cmp.Diff(first, PlanStack(desired, actual)); d != "" {
			t.Fatalf("a second plan differs:\n%s", d)
		}
	}
	if first.Count(PlanCreate) != 50 || first.Count(PlanDelete) != 2 {
		t.Fatalf("%d creates and %d deletes, want 50 and 2", first.Count(PlanCreate), first.Count(PlanDelete))
	}
	if !PlanStack(desired, running(desired)).NoOp() {
		t.Fatal("a target that matches gets a plan that changes something")
	}
}

func TestDiffStacks(t *testing.T) {
	from := validStack().Normalize()
	next := validStack()
	next.Defaults.Memory = 1024
	next.Services[0].Image = "r/web:2"
	next.Services = append(next.Services[:2], StackService{Name: "mailer", Image: "r/mailer:1"})
	to := next.Normalize()
	d := DiffStacks(from, to)
	wantSections := []FieldChange{{"defaults.memory", "930", "1024"}}
	if diff := cmp.Diff(wantSections, d.Sections); diff != "" {
		t.Errorf("sections (-want +got):\n%s", diff)
	}
	if got := summary(Plan{Services: d.Services}); got != "users:update web:update mailer:create worker:delete" {
		t.Errorf("services %s", got)
	}
	if d.Services[2].Reason != "added" || d.Services[3].Reason != "removed" {
		t.Errorf("reasons %q and %q, want added and removed", d.Services[2].Reason, d.Services[3].Reason)
	}
	if got := DiffStacks(from, from); len(got.Sections)+len(got.Services) != 0 {
		t.Errorf("a revision differs from itself: %+v", got)
	}
}

// bigStack is a stackfile of n services, each depending on the one before
// every tenth, with an environment, ports and a load balancer.
func bigStack(n int) *Stackfile {
	s := &Stackfile{Logging: &Logging{LogDriver: "awslogs", Options: map[string]string{"awslogs-group": "/ecs/big"}},
		Defaults: StackDefaults{Memory: 512, Environment: []EnvVar{{"A", "1"}, {"B", "2"}, {"C", "3"}}}}
	for i := range n {
		sv := StackService{Name: fmt.Sprintf("svc-%04d", i), Image: fmt.Sprintf("r/svc-%04d:v1", i),
			Ports: []string{"8080:8080"}, Environment: []EnvVar{{"SERVER_PORT", "8080"}, {"SECRET", "${SECRET}"}},
			ELB: &ELB{Type: ELBPrivate, Ports: ELBPorts{80, 8080}}}
		if i%10 != 0 {
			sv.DependsOn = []string{fmt.Sprintf("svc-%04d", i-1)}
		}
		s.Services = append(s.Services, sv)
	}
	return s
}

// BenchmarkPlanStack1000 plans a 1 000-service stack against a target
// running every service, a tenth of them with another image and a tenth
// at another count (the target: under 100 ms).
func BenchmarkPlanStack1000(b *testing.B) {
	desired := bigStack(1000).Normalize()
	actual := running(desired)
	for i := range actual {
		switch i % 10 {
		case 3:
			actual[i].Spec.Image += "-old"
		case 7:
			actual[i].Spec.DesiredCount = intp(5)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		p := PlanStack(desired, actual)
		if p.Count(PlanUpdate) != 200 {
			b.Fatalf("%d updates", p.Count(PlanUpdate))
		}
	}
}
