package stackfile_test

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/stackfile"
)

func seed(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseSeed: the seed's stackfile, verbatim from its README, parses,
// validates and normalises as its code meant it to.
func TestParseSeed(t *testing.T) {
	sf, err := stackfile.Parse(seed(t))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range sf.Services {
		names = append(names, s.Name)
	}
	if !slices.Equal(names, []string{"routing-service", "user-service", "email-worker"}) {
		t.Fatalf("services %v, in the written order", names)
	}
	if got := sf.Service("user-service").Ports; !slices.Equal(got, []string{"80:80"}) {
		t.Fatalf("user-service ports %v: the seed dropped 80:80, Purser keeps it", got)
	}
	n := sf.Normalize()
	routing := n.Service("routing-service")
	wantEnv := []purser.EnvVar{
		{Name: "JAVA_OPTS", Value: `-Duser.timezone="UTC" -Xms256m -Xmx640m -XX:MaxMetaspaceSize=256m`},
		{Name: "LOGGING_LEVEL_ROOT", Value: "INFO"},
		{Name: "SERVER_PORT", Value: "8080"},
		{Name: "SPRING_PROFILES_ACTIVE", Value: "staging"},
	}
	if d := cmp.Diff(wantEnv, routing.Environment); d != "" {
		t.Errorf("routing-service environment: its SERVER_PORT wins (-want +got):\n%s", d)
	}
	if v := n.Service("user-service").Environment[2]; v != (purser.EnvVar{Name: "SERVER_PORT", Value: "80"}) {
		t.Errorf("user-service SERVER_PORT %v, want the default 80", v)
	}
	for _, s := range n.Services {
		if s.Memory != 930 || s.Count() != 1 || s.Type != purser.ServiceTypeService || s.Logging.LogDriver != "awslogs" {
			t.Errorf("%s: memory %d count %d type %s logging %+v", s.Name, s.Memory, s.Count(), s.Type, s.Logging)
		}
	}
	hc := routing.ELB.Healthcheck
	if hc.Path != "/health" || hc.Port != 8080 || hc.IntervalSeconds != 30 || hc.UnhealthyThresholdCount != 10 || routing.ELB.Protocol != "HTTPS" {
		t.Errorf("routing-service ELB %+v, health check %+v", routing.ELB, hc)
	}
	if len(n.SecretRefs()) != 0 {
		t.Errorf("secret refs %v in a stackfile with none", n.SecretRefs())
	}

	t.Run("SameAsJSON", func(t *testing.T) {
		b, err := json.Marshal(sf)
		if err != nil {
			t.Fatal(err)
		}
		back, err := stackfile.Parse(b)
		if err != nil {
			t.Fatalf("the seed as JSON: %v\n%s", err, b)
		}
		if d := cmp.Diff(sf, back); d != "" {
			t.Fatalf("JSON and YAML differ (-yaml +json):\n%s", d)
		}
	})
	t.Run("NormalisedFormParses", func(t *testing.T) {
		back, err := stackfile.Parse(n.CanonicalJSON())
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(n, back.Normalize()); d != "" {
			t.Fatalf("(-normalised +reparsed):\n%s", d)
		}
	})
}

const base = `
service_discovery: {namespace: example.sd}
defaults: {memory: 512}
services:
`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		fields []string // field:rule, in any order
	}{
		{"OKMinimal", base + "  - web: {image: r/web:1}\n", nil},
		{"OKJSON", `{"defaults": {}, "services": [{"web": {"image": "r/web:1", "ports": ["80:80"]}}]}`, nil},
		{"OKNumericEnvAndOptions", base + "  - web: {image: x, environment: [{PORT: 80}, {ON: true}], logging: {log_driver: gelf, options: {max: 4}}}\n", nil},
		{"ErrDefaultsRequired", "services: []\n", []string{"defaults:required"}},
		{"ErrServicesRequired", "defaults: {}\n", []string{"services:required"}},
		{"ErrPortTwoDigitsFine", base + "  - web: {image: x, ports: ['80:80', '8080']}\n", []string{"services[0].web.ports[1]:pattern"}},
		{"ErrPortRange", base + "  - web: {image: x, ports: ['70000:80']}\n", []string{"services[0].web.ports[0]:port"}},
		{"ErrUnknownTopLevelKey", "defaults: {}\nservices: []\nservice: []\n", []string{"service:unknown_key"}},
		{"ErrUnknownServiceKey", base + "  - web: {image: x, replicas: 2}\n", []string{"services[0].web.replicas:unknown_key"}},
		{"ErrUnknownELBKey", base + "  - web: {image: x, elb: {type: public, ports: {public: 80, container: 80}, tls: true}}\n",
			[]string{"services[0].web.elb.tls:unknown_key"}},
		{"ErrELBType", base + "  - web: {image: x, elb: {type: internal, ports: {public: 80, container: 80}}}\n", []string{"services[0].web.elb.type:enum"}},
		{"ErrDNSDiscoveryWithoutNamespace", "defaults: {}\nservices:\n  - web: {image: x, dns_discovery: {name: web.staging}}\n",
			[]string{"services[0].web.dns_discovery:requires"}},
		{"ErrLoggingOptionsWithoutDriver", "logging: {options: {a: b}}\ndefaults: {}\nservices: []\n", []string{"logging.options:requires"}},
		{"ErrNameNotDNS1123", base + "  - Web_1: {image: x}\n", []string{"services[0].Web_1:dns_1123"}},
		{"ErrNameTwice", base + "  - web: {image: x}\n  - web: {image: y}\n", []string{"services[1].web:unique"}},
		{"ErrServiceTwoKeys", base + "  - web: {image: x}\n    api: {image: y}\n", []string{"services[0]:single_key"}},
		{"ErrDependsOnUnknown", base + "  - web: {image: x, depends_on: [db]}\n", []string{"services[0].web.depends_on[0]:depends_on"}},
		{"ErrDependsOnCycle", base + "  - a: {image: x, depends_on: [b]}\n  - b: {image: x, depends_on: [a]}\n", []string{"services[0].a.depends_on:cycle"}},
		{"ErrImageRequired", base + "  - web: {ports: ['80:80']}\n", []string{"services[0].web.image:required"}},
		{"ErrType", base + "  - web: {image: x, desired_count: many}\n", []string{"services[0].web.desired_count:type"}},
		{"ErrNegativeCount", base + "  - web: {image: x, desired_count: -1}\n", []string{"services[0].web.desired_count:minimum"}},
		{"ErrEnvNotSingleKey", base + "  - web: {image: x, environment: [{A: 1, B: 2}]}\n", []string{"services[0].web.environment[0]:single_key"}},
		{"ErrEnvAsMap", base + "  - web: {image: x, environment: {A: 1}}\n", []string{"services[0].web.environment:type"}},
		{"ErrSecretInsideValue", base + "  - web: {image: x, environment: [{URL: 'db://${PW}@h'}]}\n", []string{"services[0].web.environment[0].URL:secret_ref"}},
		{"ErrEveryFault", base + "  - web: {image: x, ports: ['80']}\n  - user-service: {image: y, ports: ['80:80', 'x'], elb: {type: pub, ports: {public: 1, container: 1}}}\n",
			[]string{"services[0].web.ports[0]:pattern", "services[1].user-service.ports[1]:pattern", "services[1].user-service.elb.type:enum"}},
		{"ErrDuplicateKey", "defaults: {}\ndefaults: {}\nservices: []\n", []string{"stackfile:syntax"}},
		{"ErrDuplicateKeyJSON", `{"defaults": {}, "services": [], "services": []}`, []string{"stackfile:syntax"}},
		{"ErrNotYAML", "defaults: [\n", []string{"stackfile:syntax"}},
		{"ErrEmpty", "", []string{"stackfile:syntax"}},
		{"ErrNotAMap", "- a\n- b\n", []string{"stackfile:type"}},
		{"ErrAliasBomb", "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n" +
			"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
			[]string{"stackfile:syntax"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sf, err := stackfile.Parse([]byte(tt.text))
			if tt.fields == nil {
				if err != nil {
					t.Fatal(err)
				}
				if sf == nil {
					t.Fatal("no stackfile")
				}
				return
			}
			if purser.ErrorCode(err) != purser.EINVALID {
				t.Fatalf("err %v, want invalid", err)
			}
			var got []string
			for _, f := range err.(*purser.Error).Fields {
				if f.Message == "" {
					t.Errorf("%s has no message", f.Field)
				}
				got = append(got, f.Field+":"+f.Rule)
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.fields))
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("fields (-want +got):\n%s\n%v", d, err.(*purser.Error).Fields)
			}
		})
	}
}

func TestParseUnknownKeyListsKnownOnes(t *testing.T) {
	_, err := stackfile.Parse([]byte(base + "  - web: {image: x, desired_cont: 2}\n"))
	f := err.(*purser.Error).Fields[0]
	for _, k := range []string{"desired_count", "image", "depends_on", "healthcheck"} {
		if !strings.Contains(f.Message, k) {
			t.Errorf("message %q does not list %s", f.Message, k)
		}
	}
}

func TestParseKeepsTextOfValues(t *testing.T) {
	sf, err := stackfile.Parse([]byte(`logging: {log_driver: gelf, options: {max: 010, on: yes}}
defaults:
  environment:
    - VERSION: 1.10
    - MODE: 0755
    - PORT: 80
    - DEBUG: true
    - BIG: 123456789012345678901234567890
services:
  - web: {image: x, environment: [{N: 1e3}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []purser.EnvVar{{Name: "VERSION", Value: "1.10"}, {Name: "MODE", Value: "0755"}, {Name: "PORT", Value: "80"},
		{Name: "DEBUG", Value: "true"}, {Name: "BIG", Value: "123456789012345678901234567890"}}
	if d := cmp.Diff(want, sf.Defaults.Environment); d != "" {
		t.Errorf("environment as written (-want +got):\n%s", d)
	}
	if v := sf.Services[0].Environment[0].Value; v != "1e3" {
		t.Errorf("service value %q, want 1e3", v)
	}
	if d := cmp.Diff(map[string]string{"max": "010", "on": "yes"}, sf.Logging.Options); d != "" {
		t.Errorf("options as written (-want +got):\n%s", d)
	}
}

func TestParseMessages(t *testing.T) {
	for _, tt := range []struct{ text, want string }{
		{"defaults: {memory: 99999999999}\nservices: []\n", "defaults.memory: must be at most 1048576"},
		{base + "  - web: {image: x, desired_count: -2}\n", "services[0].web.desired_count: must be at least 0"},
		{base + "  - web: {image: x, ports: [80]}\n", "services[0].web.ports[0]: must be a string, not a number"},
		{base + "  - web: {image: x, ports: ['80/tcp']}\n", `services[0].web.ports[0]: "80/tcp" must be HOST:CONTAINER, two port numbers`},
		{base + "  - web: {image: x, type: cron}\n", "services[0].web.type: must be one of: service, task"},
	} {
		_, err := stackfile.Parse([]byte(tt.text))
		if got := purser.ErrorMessage(err); got != tt.want {
			t.Errorf("message %q, want %q", got, tt.want)
		}
	}
}

func TestParseTooLarge(t *testing.T) {
	_, err := stackfile.Parse(make([]byte, stackfile.MaxSize+1))
	if purser.ErrorCode(err) != purser.ETOOLARGE {
		t.Fatalf("err %v", err)
	}
}

func TestSchema(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(stackfile.Schema(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" || doc["$id"] != stackfile.SchemaURL {
		t.Fatalf("$schema %v, $id %v", doc["$schema"], doc["$id"])
	}
}

// FuzzParse: no text makes the parser panic, and a stackfile it accepts
// obeys the domain's rules and survives normalising, writing as YAML and
// reparsing.
func FuzzParse(f *testing.F) {
	f.Add(string(seed(f)))
	f.Add(base + "  - web: {image: x, ports: ['80:80'], depends_on: [web]}\n")
	f.Add(`{"defaults": {"memory": 1.0}, "services": [{"web": {"image": "x", "desired_count": 0}}]}`)
	f.Add("defaults: {}\nservices: [{a: {image: x, environment: [{A: ${B}}]}}]\n")
	f.Add("a: &a [*a]\n")
	f.Add("defaults: {memory: 99999999999999999999}\nservices: []\n")
	f.Fuzz(func(t *testing.T, text string) {
		sf, err := stackfile.Parse([]byte(text))
		if err != nil {
			if c := purser.ErrorCode(err); c != purser.EINVALID && c != purser.ETOOLARGE {
				t.Fatalf("code %q: %v", c, err)
			}
			return
		}
		if err := sf.Validate(); err != nil {
			t.Fatalf("accepted a stackfile the domain refuses: %v", err)
		}
		n := sf.Normalize()
		back, err := stackfile.Parse(n.CanonicalJSON())
		if err != nil {
			t.Fatalf("the normalised form does not parse: %v\n%s", err, n.CanonicalJSON())
		}
		if d := cmp.Diff(n, back.Normalize()); d != "" {
			t.Fatalf("reparsed normalised form differs:\n%s", d)
		}
		y, err := stackfile.MarshalYAML(sf)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := stackfile.Parse(y); err != nil || !cmp.Equal(sf, back, cmpopts.EquateEmpty()) {
			t.Fatalf("the YAML of an accepted stackfile reads back as %v, %v:\n%s", back, err, y)
		}
	})
}

// BenchmarkParse1000 reads, checks and normalises a 1 000-service
// stackfile, as a PUT of the config does.
func BenchmarkParse1000(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("logging: {log_driver: awslogs, options: {awslogs-group: /ecs/big}}\ndefaults:\n  memory: 512\n  environment:\n    - A: 1\nservices:\n")
	for i := range 1000 {
		fmt.Fprintf(&sb, "  - svc-%04d:\n      image: r/svc-%04d:v1\n      ports: [\"8080:8080\"]\n      environment:\n        - SECRET: ${SECRET}\n", i, i)
		if i%10 != 0 {
			fmt.Fprintf(&sb, "      depends_on: [svc-%04d]\n", i-1)
		}
		sb.WriteString("      elb: {type: private, ports: {public: 80, container: 8080}}\n")
	}
	text := []byte(sb.String())
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		sf, err := stackfile.Parse(text)
		if err != nil {
			b.Fatal(err)
		}
		sf.Normalize()
	}
}
