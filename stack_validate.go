package purser

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var (
	dns1123RE   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	envNameRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	portRE      = regexp.MustCompile(`^([0-9]+):([0-9]+)$`)
	secretRefRE = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)
)

// ServicePath is the path of service i's field in a stackfile, as errors
// name it: ServicePath(1, "user-service", "ports[0]") is
// "services[1].user-service.ports[0]".
func ServicePath(i int, name, field string) string {
	p := fieldIndex("services", i) + "." + name
	if field != "" {
		p += "." + field
	}
	return p
}

// Validate checks the rules of a stackfile that its JSON Schema cannot
// state: service names unique DNS-1123 labels, an image on every service,
// ports HOST:CONTAINER with any digits in 1..65535, volumes
// name:host:container, known enums, dns_discovery only with a
// service-discovery namespace, logging options only with a log driver,
// depends_on naming other services without cycles, environment names
// unique identifiers, and ${NAME} only as a whole value. It returns an
// EINVALID Error naming every faulty path, or nil.
func (s *Stackfile) Validate() error {
	var fe []FieldError
	add := func(field, rule, format string, args ...any) {
		fe = append(fe, FieldError{field, rule, fmt.Sprintf(format, args...)})
	}
	if s.Logging != nil && len(s.Logging.Options) > 0 && s.Logging.LogDriver == "" {
		add("logging.options", "requires", "needs logging.log_driver")
	}
	if s.ServiceDiscovery != nil && !isDomain(s.ServiceDiscovery.Namespace) {
		add("service_discovery.namespace", "format", "must be a domain such as example.sd")
	}
	if s.Defaults.Memory < 0 {
		add("defaults.memory", "minimum", "must be at least 0 MiB")
	}
	validateEnv("defaults.environment", s.Defaults.Environment, add)
	seen := map[string]int{}
	for i := range s.Services {
		sv := &s.Services[i]
		at := func(f string) string { return ServicePath(i, sv.Name, f) }
		switch {
		case !dns1123RE.MatchString(sv.Name):
			add(at(""), "dns_1123", "the name %q must be a DNS-1123 label: lower-case letters, digits and '-', at most 63, starting and ending with a letter or digit", sv.Name)
		case seen[sv.Name] > 0:
			add(at(""), "unique", "the name %s is already used by services[%d]", sv.Name, seen[sv.Name]-1)
		default:
			seen[sv.Name] = i + 1
		}
		s.validateService(sv, at, add)
	}
	for i := range s.Services {
		sv := &s.Services[i]
		for j, d := range sv.DependsOn {
			f := ServicePath(i, sv.Name, fieldIndex("depends_on", j))
			switch {
			case d == sv.Name:
				add(f, "depends_on", "a service cannot depend on itself")
			case seen[d] == 0:
				add(f, "depends_on", "names %q, which is no service of this stack", d)
			}
		}
	}
	if cyc := s.dependencyCycle(); cyc != nil {
		add(ServicePath(cyc.index, cyc.path[0], "depends_on"), "cycle", "forms a cycle: %s", strings.Join(cyc.path, " -> "))
	}
	if len(fe) > 0 {
		return Invalid(fe...)
	}
	return nil
}

func (s *Stackfile) validateService(sv *StackService, at func(string) string, add func(field, rule, format string, args ...any)) {
	if strings.TrimSpace(sv.Image) == "" {
		add(at("image"), "required", "is required")
	}
	if sv.Type != "" && sv.Type != ServiceTypeService && sv.Type != "task" {
		add(at("type"), "enum", "must be service or task")
	}
	if sv.Memory < 0 {
		add(at("memory"), "minimum", "must be at least 0 MiB")
	}
	if sv.DesiredCount != nil && *sv.DesiredCount < 0 {
		add(at("desired_count"), "minimum", "must be at least 0")
	}
	validateEnv(at("environment"), sv.Environment, add)
	for j, p := range sv.Ports {
		if _, _, err := ParsePort(p); err != nil {
			add(at(fieldIndex("ports", j)), "port", "%v", err)
		}
	}
	for j, v := range sv.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) != 3 || parts[0] == "" || !strings.HasPrefix(parts[1], "/") || !strings.HasPrefix(parts[2], "/") {
			add(at(fieldIndex("volumes", j)), "volume", "%q must be name:/host/path:/container/path", v)
		}
	}
	if sv.PlacementStrategy != "" && sv.PlacementStrategy != PlacementEveryNode {
		add(at("placement_strategy"), "enum", "must be every_node")
	}
	if sv.Logging != nil && len(sv.Logging.Options) > 0 && sv.Logging.LogDriver == "" && (s.Logging == nil || s.Logging.LogDriver == "") {
		add(at("logging.options"), "requires", "needs a log_driver, here or in the stack's logging")
	}
	if e := sv.ELB; e != nil {
		if e.Type != ELBPublic && e.Type != ELBPrivate {
			add(at("elb.type"), "enum", "must be public or private")
		}
		if e.Protocol != "" && e.Protocol != "HTTP" && e.Protocol != "HTTPS" {
			add(at("elb.protocol"), "enum", "must be HTTP or HTTPS")
		}
		for _, p := range []struct {
			f string
			v int
		}{{"elb.ports.public", e.Ports.Public}, {"elb.ports.container", e.Ports.Container}} {
			if p.v < 1 || p.v > 65535 {
				add(at(p.f), "port", "must be a port between 1 and 65535")
			}
		}
		if h := e.Healthcheck; h != nil && (h.Port < 0 || h.Port > 65535) {
			add(at("elb.healthcheck.port"), "port", "must be a port between 1 and 65535")
		}
	}
	if sv.DNSDiscovery != nil && (s.ServiceDiscovery == nil || s.ServiceDiscovery.Namespace == "") {
		add(at("dns_discovery"), "requires", "needs service_discovery.namespace")
	}
	if d := sv.DeploymentConfiguration; d != nil && d.MaximumPercent != 0 && d.MinimumHealthyPercent > d.MaximumPercent {
		add(at("deployment_configuration.minimum_healthy_percent"), "range", "must not exceed maximum_percent")
	}
	if h := sv.Healthcheck; h != nil && len(h.Command) == 0 {
		add(at("healthcheck.command"), "required", "is required")
	}
}

// validateEnv checks an environment list at path.
func validateEnv(path string, env []EnvVar, add func(field, rule, format string, args ...any)) {
	names := map[string]bool{}
	for j, e := range env {
		f := fieldIndex(path, j)
		if !envNameRE.MatchString(e.Name) {
			add(f, "pattern", "the name %q must be an identifier (letters, digits, _)", e.Name)
		}
		if names[e.Name] {
			add(f, "unique", "sets %s twice", e.Name)
		}
		names[e.Name] = true
		if strings.Contains(e.Value, "${") && !secretRefRE.MatchString(e.Value) {
			add(f+"."+e.Name, "secret_ref", "a secret is referred to by the whole value, ${NAME}, NAME an identifier")
		}
	}
}

// isDomain reports whether d is two or more DNS labels joined by dots.
func isDomain(d string) bool {
	labels := strings.Split(d, ".")
	for _, l := range labels {
		if !dns1123RE.MatchString(l) {
			return false
		}
	}
	return len(labels) >= 2
}

// ParsePort reads "HOST:CONTAINER", each a port in 1..65535 with any
// number of digits.
func ParsePort(p string) (host, container int, err error) {
	m := portRE.FindStringSubmatch(p)
	if m == nil {
		return 0, 0, fmt.Errorf("%q must be HOST:CONTAINER, two port numbers", p)
	}
	host, herr := strconv.Atoi(m[1])
	container, cerr := strconv.Atoi(m[2])
	if herr != nil || cerr != nil || host < 1 || host > 65535 || container < 1 || container > 65535 {
		return 0, 0, fmt.Errorf("%q: ports are between 1 and 65535", p)
	}
	return host, container, nil
}

// SecretRef returns NAME when v is a reference to a cluster secret,
// written ${NAME}.
func SecretRef(v string) (string, bool) {
	m := secretRefRE.FindStringSubmatch(v)
	if m == nil {
		return "", false
	}
	return m[1], true
}

type cycle struct {
	index int      // the service where the cycle was found
	path  []string // names, first repeated last
}

// dependencyCycle returns one depends_on cycle, or nil. Unknown names are
// ignored (Validate reports them).
func (s *Stackfile) dependencyCycle() *cycle {
	idx := make(map[string]int, len(s.Services))
	for i, sv := range s.Services {
		if _, dup := idx[sv.Name]; !dup {
			idx[sv.Name] = i
		}
	}
	const (
		white = iota
		grey
		black
	)
	color := make([]int, len(s.Services))
	var stack []int
	var found *cycle
	var visit func(i int)
	visit = func(i int) {
		color[i] = grey
		stack = append(stack, i)
		for _, d := range s.Services[i].DependsOn {
			j, ok := idx[d]
			if !ok || j == i || found != nil {
				continue
			}
			switch color[j] {
			case grey:
				k := len(stack) - 1
				for stack[k] != j {
					k--
				}
				c := &cycle{index: j}
				for _, x := range stack[k:] {
					c.path = append(c.path, s.Services[x].Name)
				}
				c.path = append(c.path, s.Services[j].Name)
				found = c
			case white:
				visit(j)
			}
		}
		stack = stack[:len(stack)-1]
		color[i] = black
	}
	for i := range s.Services {
		if color[i] == white && found == nil {
			visit(i)
		}
	}
	return found
}
