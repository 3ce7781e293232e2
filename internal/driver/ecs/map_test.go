package ecs

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/purserhq/purser"
)

// normalized returns the one service of a stack holding svc, normalised.
func normalized(stack purser.Stackfile, svc purser.StackService) (*purser.Stackfile, *purser.StackService) {
	stack.Services = []purser.StackService{svc}
	n := stack.Normalize()
	return n, &n.Services[0]
}

func TestTaskDefinitionFields(t *testing.T) {
	base := purser.StackService{Name: "api", Image: "repo/api:1"}
	stack := purser.Stackfile{Defaults: purser.StackDefaults{Memory: 930}}
	container := func(in *ecs.RegisterTaskDefinitionInput) types.ContainerDefinition { return in.ContainerDefinitions[0] }
	cases := []struct {
		name  string
		stack func(*purser.Stackfile)
		edit  func(*purser.StackService)
		check func(t *testing.T, in *ecs.RegisterTaskDefinitionInput)
	}{
		{"family and container", nil, nil, func(t *testing.T, in *ecs.RegisterTaskDefinitionInput) {
			c := container(in)
			if aws.ToString(in.Family) != "prod-api" || len(in.ContainerDefinitions) != 1 || aws.ToString(c.Name) != "api" ||
				aws.ToString(c.Image) != "repo/api:1" || !aws.ToBool(c.Essential) {
				t.Errorf("family %s, container %+v", aws.ToString(in.Family), c)
			}
		}},
		{"memory from defaults", nil, nil, func(t *testing.T, in *ecs.RegisterTaskDefinitionInput) {
			if m := aws.ToInt32(container(in).Memory); m != 930 {
				t.Errorf("memory %d, want 930", m)
			}
		}},
		{"memory of the service", nil, func(s *purser.StackService) { s.Memory = 512 }, func(t *testing.T, in *ecs.RegisterTaskDefinitionInput) {
			if m := aws.ToInt32(container(in).Memory); m != 512 {
				t.Errorf("memory %d, want 512", m)
			}
		}},
		{"privileged", nil, func(s *purser.StackService) { s.Privileged = true }, func(t *testing.T, in *ecs.RegisterTaskDefinitionInput) {
			if !aws.ToBool(container(in).Privileged) {
				t.Error("not privileged")
			}
		}},
		{"environment resolved, defaults merged", func(s *purser.Stackfile) {
			s.Defaults.Environment = []purser.EnvVar{{Name: "LEVEL", Value: "INFO"}, {Name: "PORT", Value: "80"}}
		}, func(s *purser.StackService) {
			s.Environment = []purser.EnvVar{{Name: "PORT", Value: "8080"}, {Name: "DB_PASSWORD", Value: "${DB_PASSWORD}"}}
		}, func(t *testing.T, in *ecs.RegisterTaskDefinitionInput) {
			got := map[string]string{}
			for _, kv := range container(in).Environment {
				got[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
			}
			want := map[string]string{"LEVEL": "INFO", "PORT": "8080", "DB_PASSWORD": "s3cret"}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("environment %v, want %v", got, want)
			}
		}},
		{"ports in host mode", nil, func(s *purser.StackService) { s.Ports = []string{"8080:80", "9000:9000"} }, func(t *testing.T, in *ecs.RegisterTaskDefinitionInput) {
			pm := container(in).PortMappings
			if in.NetworkMode != types.NetworkModeHost || len(pm) != 2 || aws.ToInt32(pm[0].HostPort) != 8080 || aws.ToInt32(pm[0].ContainerPort) != 80 || aws.ToInt32(pm[1].HostPort) != 9000 {
				t.Errorf("mode %s, ports %+v", in.NetworkMode, pm)
			}
		}},
		{"awsvpc with dns_discovery maps a port to itself", nil, func(s *purser.StackService) {
			s.Ports = []string{"8080:80"}
			s.DNSDiscovery = &purser.DNSDiscovery{Name: "api.prod"}
		}, func(t *testing.T, in *ecs.RegisterTaskDefinitionInput) {
			pm := container(in).PortMappings
			if in.NetworkMode != types.NetworkModeAwsvpc || aws.ToInt32(pm[0].HostPort) != 80 || aws.ToInt32(pm[0].ContainerPort) != 80 {
				t.Errorf("mode %s, ports %+v", in.NetworkMode, pm)
			}
		}},
		{"volumes", nil, func(s *purser.StackService) { s.Volumes = []string{"data:/srv/data:/var/lib/data"} }, func(t *testing.T, in *ecs.RegisterTaskDefinitionInput) {
			mp := container(in).MountPoints
			if len(in.Volumes) != 1 || aws.ToString(in.Volumes[0].Name) != "data" || aws.ToString(in.Volumes[0].Host.SourcePath) != "/srv/data" ||
				len(mp) != 1 || aws.ToString(mp[0].SourceVolume) != "data" || aws.ToString(mp[0].ContainerPath) != "/var/lib/data" {
				t.Errorf("volumes %+v, mount points %+v", in.Volumes, mp)
			}
		}},
		{"logging merged over the stack's", func(s *purser.Stackfile) {
			s.Logging = &purser.Logging{LogDriver: "awslogs", Options: map[string]string{"awslogs-group": "/ecs/prod", "awslogs-region": "eu-west-1"}}
		}, func(s *purser.StackService) {
			s.Logging = &purser.Logging{Options: map[string]string{"awslogs-group": "/ecs/api"}}
		}, func(t *testing.T, in *ecs.RegisterTaskDefinitionInput) {
			lc := container(in).LogConfiguration
			if lc == nil || lc.LogDriver != "awslogs" || lc.Options["awslogs-group"] != "/ecs/api" || lc.Options["awslogs-region"] != "eu-west-1" {
				t.Errorf("log configuration %+v", lc)
			}
		}},
		{"no logging", nil, nil, func(t *testing.T, in *ecs.RegisterTaskDefinitionInput) {
			if lc := container(in).LogConfiguration; lc != nil {
				t.Errorf("log configuration %+v, want none", lc)
			}
		}},
		{"container health check", nil, func(s *purser.StackService) {
			s.Healthcheck = &purser.ContainerHealthcheck{Command: []string{"CMD", "true"}}
		}, func(t *testing.T, in *ecs.RegisterTaskDefinitionInput) {
			h := container(in).HealthCheck
			if h == nil || !reflect.DeepEqual(h.Command, []string{"CMD", "true"}) || aws.ToInt32(h.Interval) != 30 || aws.ToInt32(h.Retries) != 3 {
				t.Errorf("health check %+v", h)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, svc := stack, base
			if tc.stack != nil {
				tc.stack(&st)
			}
			if tc.edit != nil {
				tc.edit(&svc)
			}
			n, ns := normalized(st, svc)
			in, err := TaskDefinition("prod", n, ns, map[string]string{"DB_PASSWORD": "s3cret"})
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, in)
		})
	}
}

// The spec label holds references, never values: a secret's new value
// leaves the hash alone; a field's change does not.
func TestSpecLabelKeepsReferences(t *testing.T) {
	n, svc := normalized(purser.Stackfile{}, purser.StackService{Name: "api", Image: "repo/api:1",
		Environment: []purser.EnvVar{{Name: "DB_PASSWORD", Value: "${DB_PASSWORD}"}}})
	a, err := TaskDefinition("prod", n, svc, map[string]string{"DB_PASSWORD": "one"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := TaskDefinition("prod", n, svc, map[string]string{"DB_PASSWORD": "two"})
	if err != nil {
		t.Fatal(err)
	}
	la, lb := a.ContainerDefinitions[0].DockerLabels, b.ContainerDefinitions[0].DockerLabels
	if la[LabelSpecHash] != lb[LabelSpecHash] || la[LabelSpec] != lb[LabelSpec] {
		t.Error("the spec label changes with a secret's value")
	}
	if strings.Contains(la[LabelSpec], "one") || !strings.Contains(la[LabelSpec], "${DB_PASSWORD}") {
		t.Errorf("spec label %s: want the reference, not the value", la[LabelSpec])
	}
	// The spec reads back as written, the desired count aside.
	back, ok := ServiceSpec(&a.ContainerDefinitions[0])
	back.Name, back.DesiredCount = svc.Name, svc.DesiredCount
	if !ok || len(purser.ServiceChanges(svc, &back)) != 0 {
		t.Errorf("read back %+v: changes %v", back, purser.ServiceChanges(svc, &back))
	}
	moved := *svc
	moved.Memory = 512
	if _, h := SpecLabel(&moved); h == la[LabelSpecHash] {
		t.Error("a new memory keeps the hash")
	}
	scaled := *svc
	three := 3
	scaled.DesiredCount = &three
	if _, h := SpecLabel(&scaled); h != la[LabelSpecHash] {
		t.Error("a new desired count changes the hash: a scale would register a task definition")
	}
	if _, err := TaskDefinition("prod", n, svc, nil); err == nil || !strings.Contains(err.Error(), "${DB_PASSWORD}") {
		t.Errorf("a missing secret: %v", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(la[LabelSpec]), &m); err != nil {
		t.Fatalf("spec label is not JSON: %v", err)
	}
}

func TestNames(t *testing.T) {
	e := &purser.ELB{Ports: purser.ELBPorts{Public: 443, Container: 8080}}
	if got := LoadBalancerName("staging", "routing-service", e); got != "staging-routing-service-lb" {
		t.Errorf("lb name %s", got)
	}
	if got := TargetGroupName("staging", "routing-service", e); got != "staging-routing-service-8080" {
		t.Errorf("tg name %s", got)
	}
	long := LoadBalancerName("a-very-long-cluster-name", "an-even-longer-service-name", &purser.ELB{Name: "x"})
	if len(long) > 32 || !strings.HasSuffix(long, "-lb") || long == LoadBalancerName("a-very-long-cluster-name", "an-even-longer-service-name", &purser.ELB{Name: "y"}) {
		t.Errorf("long name %s (%d)", long, len(long))
	}
	if SchedulingStrategy(&purser.StackService{PlacementStrategy: purser.PlacementEveryNode}) != types.SchedulingStrategyDaemon ||
		SchedulingStrategy(&purser.StackService{}) != types.SchedulingStrategyReplica {
		t.Error("scheduling strategy")
	}
	if Scheme(&purser.ELB{Type: "private"}) != "internal" || Scheme(&purser.ELB{Type: "public"}) != "internet-facing" {
		t.Error("scheme")
	}
	dc := DeploymentConfiguration(&purser.StackService{})
	if aws.ToInt32(dc.MaximumPercent) != 200 || aws.ToInt32(dc.MinimumHealthyPercent) != 50 {
		t.Errorf("deployment configuration %+v", dc)
	}
}

func TestHealthy(t *testing.T) {
	td := "arn:aws:ecs:us-east-1:1:task-definition/prod-api:2"
	dep := func(status, tdArn string) types.Deployment {
		return types.Deployment{Status: aws.String(status), TaskDefinition: aws.String(tdArn)}
	}
	cases := []struct {
		name string
		s    types.Service
		done bool
	}{
		{"converged", types.Service{TaskDefinition: aws.String(td), DesiredCount: 2, RunningCount: 2, Deployments: []types.Deployment{dep("PRIMARY", td)}}, true},
		{"short of tasks", types.Service{TaskDefinition: aws.String(td), DesiredCount: 2, RunningCount: 1, Deployments: []types.Deployment{dep("PRIMARY", td)}}, false},
		{"old deployment draining", types.Service{TaskDefinition: aws.String(td), DesiredCount: 2, RunningCount: 2,
			Deployments: []types.Deployment{dep("PRIMARY", td), dep("ACTIVE", "old")}}, false},
		{"old task definition", types.Service{TaskDefinition: aws.String("old"), DesiredCount: 2, RunningCount: 2}, false},
	}
	for _, tc := range cases {
		if done, failed := healthy(tc.s, td); done != tc.done || failed != "" {
			t.Errorf("%s: healthy %v (%q), want %v", tc.name, done, failed, tc.done)
		}
	}
	failedDep := dep("PRIMARY", td)
	failedDep.RolloutState, failedDep.RolloutStateReason = types.DeploymentRolloutStateFailed, aws.String("circuit breaker: tasks failed to start")
	if _, failed := healthy(types.Service{TaskDefinition: aws.String(td), Deployments: []types.Deployment{failedDep}}, td); !strings.Contains(failed, "circuit breaker") {
		t.Errorf("failed deployment: %q", failed)
	}
}
