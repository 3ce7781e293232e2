package purser

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func intp(n int) *int { return &n }

// validStack is a small stackfile every rule accepts.
func validStack() *Stackfile {
	return &Stackfile{
		Logging:          &Logging{LogDriver: "awslogs", Options: map[string]string{"awslogs-group": "/ecs/staging"}},
		ServiceDiscovery: &ServiceDiscovery{Namespace: "example.sd"},
		Defaults:         StackDefaults{Memory: 930, Environment: []EnvVar{{"SERVER_PORT", "80"}, {"LEVEL", "INFO"}}},
		Services: []StackService{
			{Name: "web", Image: "r/web:1", Ports: []string{"8080:8080"}, Environment: []EnvVar{{"SERVER_PORT", "8080"}},
				ELB: &ELB{Type: ELBPublic, Ports: ELBPorts{Public: 443, Container: 8080}}, DependsOn: []string{"users"}},
			{Name: "users", Image: "r/users:1", Ports: []string{"80:80"}, DNSDiscovery: &DNSDiscovery{Name: "user.staging"}},
			{Name: "worker", Image: "r/worker:1", DesiredCount: intp(0)},
		},
	}
}

func TestStackfileValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(s *Stackfile)
		fields string // "" when valid
		rule   string // the first fault's rule
	}{
		{"OK", func(*Stackfile) {}, "", ""},
		{"OKTwoDigitPorts", func(s *Stackfile) { s.Services[1].Ports = []string{"80:80", "1:65535"} }, "", ""},
		{"OKCountZero", func(s *Stackfile) { s.Services[0].DesiredCount = intp(0) }, "", ""},
		{"OKSecretRef", func(s *Stackfile) { s.Services[0].Environment = []EnvVar{{"DB_PASSWORD", "${DB_PASSWORD}"}} }, "", ""},
		{"ErrPortShape", func(s *Stackfile) { s.Services[1].Ports = []string{"80:80", "80"} }, "services[1].users.ports[1]", "port"},
		{"ErrPortRange", func(s *Stackfile) { s.Services[1].Ports = []string{"0:80", "80:65536"} }, "services[1].users.ports[0],services[1].users.ports[1]", "port"},
		{"ErrDNSDiscoveryWithoutNamespace", func(s *Stackfile) { s.ServiceDiscovery = nil }, "services[1].users.dns_discovery", "requires"},
		{"ErrLoggingOptionsWithoutDriver", func(s *Stackfile) { s.Logging.LogDriver = "" }, "logging.options", "requires"},
		{"ErrServiceLoggingOptionsWithoutDriver", func(s *Stackfile) {
			s.Logging = nil
			s.Services[2].Logging = &Logging{Options: map[string]string{"a": "b"}}
		}, "services[2].worker.logging.options", "requires"},
		{"OKServiceLoggingOptionsStackDriver", func(s *Stackfile) { s.Services[2].Logging = &Logging{Options: map[string]string{"a": "b"}} }, "", ""},
		{"ErrNameNotDNS1123", func(s *Stackfile) { s.Services[2].Name = "Email_Worker" }, "services[2].Email_Worker", "dns_1123"},
		{"ErrNameTooLong", func(s *Stackfile) { s.Services[2].Name = strings.Repeat("a", 64) }, "services[2]." + strings.Repeat("a", 64), "dns_1123"},
		{"ErrNameTwice", func(s *Stackfile) { s.Services[2].Name = "web" }, "services[2].web", "unique"},
		{"ErrELBType", func(s *Stackfile) { s.Services[0].ELB.Type = "internal" }, "services[0].web.elb.type", "enum"},
		{"ErrDependsOnUnknown", func(s *Stackfile) { s.Services[0].DependsOn = []string{"db"} }, "services[0].web.depends_on[0]", "depends_on"},
		{"ErrDependsOnSelf", func(s *Stackfile) { s.Services[0].DependsOn = []string{"web"} }, "services[0].web.depends_on[0]", "depends_on"},
		{"ErrDependsOnCycle", func(s *Stackfile) {
			s.Services[1].DependsOn = []string{"worker"}
			s.Services[2].DependsOn = []string{"web"}
		},
			"services[0].web.depends_on", "cycle"},
		{"ErrNamespace", func(s *Stackfile) { s.ServiceDiscovery.Namespace = "." }, "service_discovery.namespace", "format"},
		{"ErrNamespaceOneLabel", func(s *Stackfile) { s.ServiceDiscovery.Namespace = "local" }, "service_discovery.namespace", "format"},
		{"ErrImageMissing", func(s *Stackfile) { s.Services[2].Image = " " }, "services[2].worker.image", "required"},
		{"ErrVolume", func(s *Stackfile) { s.Services[2].Volumes = []string{"data:/srv:/data", "data:/srv"} }, "services[2].worker.volumes[1]", "volume"},
		{"ErrPlacement", func(s *Stackfile) { s.Services[2].PlacementStrategy = "spread" }, "services[2].worker.placement_strategy", "enum"},
		{"ErrType", func(s *Stackfile) { s.Services[2].Type = "cron" }, "services[2].worker.type", "enum"},
		{"ErrNegativeCount", func(s *Stackfile) { s.Services[2].DesiredCount = intp(-1) }, "services[2].worker.desired_count", "minimum"},
		{"ErrEnvName", func(s *Stackfile) { s.Defaults.Environment[0].Name = "1X" }, "defaults.environment[0]", "pattern"},
		{"ErrEnvTwice", func(s *Stackfile) { s.Defaults.Environment[1].Name = "SERVER_PORT" }, "defaults.environment[1]", "unique"},
		{"ErrSecretRefInsideValue", func(s *Stackfile) { s.Services[0].Environment = []EnvVar{{"URL", "postgres://u:${PW}@db"}} },
			"services[0].web.environment[0].URL", "secret_ref"},
		{"ErrHealthcheckWithoutCommand", func(s *Stackfile) { s.Services[2].Healthcheck = &ContainerHealthcheck{} }, "services[2].worker.healthcheck.command", "required"},
		{"ErrEveryFaultNamed", func(s *Stackfile) {
			s.Services[0].Ports = []string{"x"}
			s.Services[1].Ports = []string{"y"}
		}, "services[0].web.ports[0],services[1].users.ports[0]", "port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validStack()
			tt.change(s)
			err := s.Validate()
			if got := fieldsOf(err); got != tt.fields {
				t.Fatalf("fields %q (%v), want %q", got, err, tt.fields)
			}
			if err == nil {
				return
			}
			if ErrorCode(err) != EINVALID {
				t.Fatalf("code %q, want invalid", ErrorCode(err))
			}
			if f := err.(*Error).Fields[0]; f.Rule != tt.rule || f.Message == "" {
				t.Fatalf("rule %q (%q), want %q", f.Rule, f.Message, tt.rule)
			}
		})
	}
}

func TestStackfileValidateCycleNamesThePath(t *testing.T) {
	s := validStack()
	s.Services[1].DependsOn = []string{"worker"}
	s.Services[2].DependsOn = []string{"web"}
	err := s.Validate().(*Error)
	if want := "web -> users -> worker -> web"; !strings.Contains(err.Fields[0].Message, want) {
		t.Fatalf("message %q, want it to name %q", err.Fields[0].Message, want)
	}
}

func TestParsePort(t *testing.T) {
	for _, tt := range []struct {
		in         string
		host, cont int
		ok         bool
	}{
		{"80:80", 80, 80, true}, {"8080:8080", 8080, 8080, true}, {"1:65535", 1, 65535, true}, {"00080:080", 80, 80, true},
		{"80", 0, 0, false}, {"80:", 0, 0, false}, {":80", 0, 0, false}, {"a:80", 0, 0, false}, {"0:80", 0, 0, false},
		{"80:65536", 0, 0, false}, {"99999999999999999999:1", 0, 0, false}, {"80:80/udp", 0, 0, false},
	} {
		h, c, err := ParsePort(tt.in)
		if (err == nil) != tt.ok || h != tt.host || c != tt.cont {
			t.Errorf("ParsePort(%q) = %d, %d, %v", tt.in, h, c, err)
		}
	}
}

func TestStackfileJSONRoundTrip(t *testing.T) {
	s := validStack()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	// The seed's shape: services and environment are lists of single-key maps.
	for _, want := range []string{`"services":[{"web":{"image":"r/web:1"`, `"environment":[{"SERVER_PORT":"80"},{"LEVEL":"INFO"}]`,
		`{"worker":{"image":"r/worker:1","desired_count":0}}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
	var back Stackfile
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(s, &back); d != "" {
		t.Fatalf("round trip (-want +got):\n%s", d)
	}
	t.Run("ScalarEnvValues", func(t *testing.T) {
		var e []EnvVar
		if err := json.Unmarshal([]byte(`[{"A":80},{"B":true},{"C":"x"},{"D":1.5}]`), &e); err != nil {
			t.Fatal(err)
		}
		want := []EnvVar{{"A", "80"}, {"B", "true"}, {"C", "x"}, {"D", "1.5"}}
		if d := cmp.Diff(want, e); d != "" {
			t.Fatal(d)
		}
	})
	t.Run("ErrServiceTwoKeys", func(t *testing.T) {
		var sv StackService
		if err := json.Unmarshal([]byte(`{"a":{"image":"x"},"b":{"image":"y"}}`), &sv); err == nil {
			t.Fatal("a service map with two keys was accepted")
		}
	})
}

func TestStackfileNormalize(t *testing.T) {
	s := validStack()
	s.Services[0].Environment = append(s.Services[0].Environment, EnvVar{"DB_PASSWORD", "${DB_PASSWORD}"})
	s.Services[0].Logging = &Logging{Options: map[string]string{"awslogs-stream-prefix": "web"}}
	s.Services[2].Memory = 256
	n := s.Normalize()

	web := n.Service("web")
	wantEnv := []EnvVar{{"DB_PASSWORD", "${DB_PASSWORD}"}, {"LEVEL", "INFO"}, {"SERVER_PORT", "8080"}}
	if d := cmp.Diff(wantEnv, web.Environment); d != "" {
		t.Errorf("web's environment: the service wins, defaults fill in, sorted (-want +got):\n%s", d)
	}
	if web.Memory != 930 || n.Service("worker").Memory != 256 {
		t.Errorf("memory %d and %d, want defaults.memory 930 and the service's 256", web.Memory, n.Service("worker").Memory)
	}
	if web.Count() != 1 || n.Service("worker").Count() != 0 || web.Type != ServiceTypeService {
		t.Errorf("count %d / %d and type %q: want 1, the written 0 kept, service", web.Count(), n.Service("worker").Count(), web.Type)
	}
	wantLog := &Logging{LogDriver: "awslogs", Options: map[string]string{"awslogs-group": "/ecs/staging", "awslogs-stream-prefix": "web"}}
	if d := cmp.Diff(wantLog, web.Logging); d != "" {
		t.Errorf("web's logging: the stack's merged under the service's (-want +got):\n%s", d)
	}
	wantHC := &ELBHealthcheck{Protocol: "HTTP", Port: 8080, Path: "/", IntervalSeconds: 30, TimeoutSeconds: 5, HealthyThresholdCount: 2, UnhealthyThresholdCount: 10}
	if d := cmp.Diff(wantHC, web.ELB.Healthcheck); d != "" || web.ELB.Protocol != "HTTP" {
		t.Errorf("ELB defaults, protocol %q (-want +got):\n%s", web.ELB.Protocol, d)
	}
	if hc := n.Service("users").DNSDiscovery.Healthcheck; hc == nil || hc.FailureThreshold != 1 {
		t.Errorf("dns_discovery health check %+v, want failure_threshold 1", hc)
	}
	if dc := n.Service("worker").DeploymentConfiguration; *dc != (DeploymentConfiguration{200, 50}) {
		t.Errorf("deployment configuration %+v, want 200 / 50", dc)
	}
	if names := []string{n.Services[0].Name, n.Services[1].Name, n.Services[2].Name}; !slices.Equal(names, []string{"web", "users", "worker"}) {
		t.Errorf("services in order %v, want the written order", names)
	}
	t.Run("Idempotent", func(t *testing.T) {
		if d := cmp.Diff(n, n.Normalize()); d != "" {
			t.Fatalf("normalising twice changes it (-once +twice):\n%s", d)
		}
	})
	t.Run("SharesNothing", func(t *testing.T) {
		n.Services[0].Environment[0].Value = "changed"
		n.Logging.Options["x"] = "y"
		if s.Services[0].Environment[1].Value != "${DB_PASSWORD}" || s.Logging.Options["x"] != "" {
			t.Fatal("changing the normalised form changed the original")
		}
	})
	t.Run("MemoryDefault1024", func(t *testing.T) {
		s := validStack()
		s.Defaults.Memory = 0
		if m := s.Normalize().Services[0].Memory; m != 1024 {
			t.Fatalf("memory %d, want 1024 when neither the service nor defaults say", m)
		}
	})
}

func TestStackfileSecretRefs(t *testing.T) {
	s := validStack()
	s.Defaults.Environment = append(s.Defaults.Environment, EnvVar{"API_KEY", "${API_KEY}"})
	s.Services[0].Environment = append(s.Services[0].Environment, EnvVar{"DB", "${DB_PASSWORD}"}, EnvVar{"KEY2", "${API_KEY}"}, EnvVar{"LIT", "$NOT_A_REF"})
	if got := s.SecretRefs(); !slices.Equal(got, []string{"API_KEY", "DB_PASSWORD"}) {
		t.Fatalf("SecretRefs = %v", got)
	}
	n := s.Normalize()
	if v := n.Services[0].Environment[0]; v.Name != "API_KEY" || v.Value != "${API_KEY}" {
		t.Fatalf("normalised %v: a reference must stay unresolved", v)
	}
}
