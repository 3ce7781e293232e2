package stackfile_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/stackfile"
)

func TestMarshalYAML(t *testing.T) {
	sf, err := stackfile.Parse(seed(t))
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*purser.Stackfile{"AsWritten": sf, "Normalised": sf.Normalize()} {
		t.Run(name, func(t *testing.T) {
			y, err := stackfile.MarshalYAML(s)
			if err != nil {
				t.Fatal(err)
			}
			back, err := stackfile.Parse(y)
			if err != nil {
				t.Fatalf("%v\n%s", err, y)
			}
			if d := cmp.Diff(s, back); d != "" {
				t.Fatalf("YAML round trip (-want +got):\n%s\n%s", d, y)
			}
			// The seed's layout: sections in order, services as single-key
			// maps, numbers that are strings quoted.
			text := string(y)
			for _, want := range []string{"vpc:\n", "services:\n  - routing-service:\n      image: xxx.dkr.ecr", "- SERVER_PORT: \"8080\"", "- \"80:80\""} {
				if !strings.Contains(text, want) {
					t.Errorf("YAML lacks %q:\n%s", want, text)
				}
			}
			if strings.Index(text, "vpc:") > strings.Index(text, "services:") {
				t.Errorf("services before vpc:\n%s", text)
			}
		})
	}
}

func TestUnifiedDiffOfRevisions(t *testing.T) {
	sf, err := stackfile.Parse(seed(t))
	if err != nil {
		t.Fatal(err)
	}
	next, err := stackfile.Parse([]byte(strings.Replace(string(seed(t)), "email-worker:xxx", "email-worker:v2", 1)))
	if err != nil {
		t.Fatal(err)
	}
	r1 := &purser.StackRevision{Number: 1, Stackfile: sf, Normalized: sf.Normalize()}
	r2 := &purser.StackRevision{Number: 2, Stackfile: next, Normalized: next.Normalize()}
	for _, norm := range []bool{false, true} {
		d, err := stackfile.UnifiedDiff(r1, r2, norm)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(d, "--- revision 1\n+++ revision 2\n@@ ") ||
			!strings.Contains(d, "\n-      image: xxx.dkr.ecr.us-east-1.amazonaws.com/email-worker:xxx\n+      image: xxx.dkr.ecr.us-east-1.amazonaws.com/email-worker:v2\n") ||
			strings.Count(d, "\n-") != 1 || strings.Count(d, "\n+") != 2 {
			t.Errorf("normalised %v: diff\n%s", norm, d)
		}
	}
}

// full is a stackfile with every field the domain knows set, so that a
// field added to the types but not to the schema (or the reverse) fails.
func full() *purser.Stackfile {
	n := 2
	return &purser.Stackfile{
		VPC: &purser.VPC{ID: "vpc-1", Subnets: purser.PublicPrivate{Public: []string{"s-1"}, Private: []string{"s-2"}},
			SecurityGroups: purser.PublicPrivate{Public: []string{"sg-1"}, Private: []string{"sg-2"}}},
		Logging:          &purser.Logging{LogDriver: "gelf", Options: map[string]string{"gelf-address": "udp://h:12201"}},
		ServiceDiscovery: &purser.ServiceDiscovery{Namespace: "example.sd"},
		Defaults:         purser.StackDefaults{Memory: 930, Environment: []purser.EnvVar{{Name: "A", Value: "1"}}},
		Services: []purser.StackService{
			{Name: "db", Image: "postgres:17"},
			{Name: "web", Image: "r/web:1", Type: "service", Memory: 256, DesiredCount: &n,
				Environment: []purser.EnvVar{{Name: "PW", Value: "${PW}"}}, Privileged: true,
				Ports: []string{"80:8080"}, Volumes: []string{"data:/srv/data:/data"}, PlacementStrategy: "every_node",
				Logging: &purser.Logging{LogDriver: "awslogs", Options: map[string]string{"awslogs-group": "/g"}},
				ELB: &purser.ELB{Name: "api", Type: "private", Protocol: "HTTPS", Ports: purser.ELBPorts{Public: 443, Container: 8080},
					Certificates: []string{"arn:c"}, DNS: &purser.ELBDNS{HostedZoneID: "Z1", RecordName: "api.example.com"},
					Healthcheck: &purser.ELBHealthcheck{Protocol: "HTTP", Port: 8080, Path: "/health", IntervalSeconds: 10,
						TimeoutSeconds: 3, HealthyThresholdCount: 3, UnhealthyThresholdCount: 4}},
				DNSDiscovery:            &purser.DNSDiscovery{Name: "web.staging", Healthcheck: &purser.DNSHealthcheck{FailureThreshold: 2}},
				DeploymentConfiguration: &purser.DeploymentConfiguration{MaximumPercent: 150, MinimumHealthyPercent: 100},
				Healthcheck: &purser.ContainerHealthcheck{Command: []string{"CMD-SHELL", "curl -f localhost"}, IntervalSeconds: 10,
					TimeoutSeconds: 2, Retries: 5, StartPeriodSeconds: 30},
				DependsOn: []string{"db"}},
		},
	}
}

func TestSchemaAndTypesAgree(t *testing.T) {
	sf := full()
	for name, text := range map[string]func() ([]byte, error){
		"YAML": func() ([]byte, error) { return stackfile.MarshalYAML(sf) },
		"JSON": func() ([]byte, error) { return json.Marshal(sf) },
	} {
		t.Run(name, func(t *testing.T) {
			b, err := text()
			if err != nil {
				t.Fatal(err)
			}
			back, err := stackfile.Parse(b)
			if err != nil {
				t.Fatalf("the schema refuses a field the domain writes: %v\n%s", err, b)
			}
			if d := cmp.Diff(sf, back); d != "" {
				t.Fatalf("(-want +got):\n%s", d)
			}
		})
	}
	if d := cmp.Diff(sf.Normalize(), sf.Normalize().Normalize()); d != "" {
		t.Fatalf("normalising a full stackfile twice:\n%s", d)
	}
}

// TestSchemaHasNoFieldTheTypesDrop: every property the schema accepts is a
// key the domain's types write, so none is accepted then silently lost.
func TestSchemaHasNoFieldTheTypesDrop(t *testing.T) {
	var schema, doc any
	if err := json.Unmarshal(stackfile.Schema(), &schema); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(full())
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	written := map[string]bool{}
	var keys func(v any)
	keys = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				written[k] = true
				keys(c)
			}
		case []any:
			for _, c := range x {
				keys(c)
			}
		}
	}
	keys(doc)
	var props func(v any)
	props = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if p, ok := x["properties"].(map[string]any); ok {
				for k := range p {
					if !written[k] {
						t.Errorf("the schema accepts %q, which the domain's types do not keep", k)
					}
				}
			}
			for _, c := range x {
				props(c)
			}
		case []any:
			for _, c := range x {
				props(c)
			}
		}
	}
	props(schema)
}
