package purser

import (
	"maps"
	"slices"
	"sort"
)

// Normalize returns the normalised form of a valid stackfile, a new value
// sharing nothing with s, which every later step (plan, apply, diff)
// works on:
//
//   - each service's environment is its own entries, then every
//     defaults.environment entry it does not set (the service wins), sorted
//     by name; ${NAME} values are kept as they are, references;
//   - memory is the service's, else defaults.memory, else 1024 MiB;
//     desired_count 1 and type "service" unless written;
//   - the stack's logging is merged under the service's (its driver and
//     options, the service's keys winning);
//   - load balancers get protocol HTTP and the health check
//     HTTP / 30 s / 5 s / 2 / 10 on the container port; service discovery a
//     failure threshold of 1; every service a deployment configuration of
//     200 % / 50 %; a container health check 30 s / 5 s / 3 retries;
//   - depends_on is sorted; services, ports and volumes keep their order.
//
// Normalize is idempotent.
func (s *Stackfile) Normalize() *Stackfile {
	n := &Stackfile{
		Logging:  cloneLogging(s.Logging),
		Defaults: StackDefaults{Memory: s.Defaults.Memory, Environment: sortedEnv(s.Defaults.Environment)},
		Services: make([]StackService, len(s.Services)),
	}
	if n.Defaults.Memory == 0 {
		n.Defaults.Memory = DefaultStackMemory
	}
	if s.VPC != nil {
		n.VPC = &VPC{ID: s.VPC.ID,
			Subnets:        PublicPrivate{Public: cloneStrings(s.VPC.Subnets.Public), Private: cloneStrings(s.VPC.Subnets.Private)},
			SecurityGroups: PublicPrivate{Public: cloneStrings(s.VPC.SecurityGroups.Public), Private: cloneStrings(s.VPC.SecurityGroups.Private)}}
	}
	if s.ServiceDiscovery != nil {
		sd := *s.ServiceDiscovery
		n.ServiceDiscovery = &sd
	}
	for i := range s.Services {
		n.Services[i] = s.normalizeService(&s.Services[i], n.Defaults.Memory)
	}
	return n
}

func (s *Stackfile) normalizeService(sv *StackService, memory int) StackService {
	out := StackService{
		Name: sv.Name, Image: sv.Image, Type: sv.Type, Memory: sv.Memory, Privileged: sv.Privileged,
		Ports: cloneStrings(sv.Ports), Volumes: cloneStrings(sv.Volumes), PlacementStrategy: sv.PlacementStrategy,
	}
	if out.Type == "" {
		out.Type = ServiceTypeService
	}
	if out.Memory == 0 {
		out.Memory = memory
	}
	count := sv.Count()
	out.DesiredCount = &count
	env := slices.Clone(sv.Environment)
	set := map[string]bool{}
	for _, e := range env {
		set[e.Name] = true
	}
	for _, e := range s.Defaults.Environment {
		if !set[e.Name] {
			env = append(env, e)
			set[e.Name] = true
		}
	}
	out.Environment = sortedEnv(env)
	out.Logging = mergeLogging(s.Logging, sv.Logging)
	if e := sv.ELB; e != nil {
		elb := *e
		elb.Certificates = cloneStrings(e.Certificates)
		if e.DNS != nil {
			d := *e.DNS
			elb.DNS = &d
		}
		if elb.Protocol == "" {
			elb.Protocol = DefaultELBProtocol
		}
		h := ELBHealthcheck{}
		if e.Healthcheck != nil {
			h = *e.Healthcheck
		}
		h.Protocol = or(h.Protocol, DefaultELBProtocol)
		h.Port = or(h.Port, elb.Ports.Container)
		h.Path = or(h.Path, DefaultHealthPath)
		h.IntervalSeconds = or(h.IntervalSeconds, DefaultHealthInterval)
		h.TimeoutSeconds = or(h.TimeoutSeconds, DefaultHealthTimeout)
		h.HealthyThresholdCount = or(h.HealthyThresholdCount, DefaultHealthyCount)
		h.UnhealthyThresholdCount = or(h.UnhealthyThresholdCount, DefaultUnhealthyCount)
		elb.Healthcheck = &h
		out.ELB = &elb
	}
	if d := sv.DNSDiscovery; d != nil {
		h := DNSHealthcheck{FailureThreshold: DefaultDNSFailureCount}
		if d.Healthcheck != nil && d.Healthcheck.FailureThreshold != 0 {
			h.FailureThreshold = d.Healthcheck.FailureThreshold
		}
		out.DNSDiscovery = &DNSDiscovery{Name: d.Name, Healthcheck: &h}
	}
	dc := DeploymentConfiguration{MaximumPercent: DefaultMaximumPercent, MinimumHealthyPercent: DefaultMinimumHealthy}
	if d := sv.DeploymentConfiguration; d != nil {
		dc.MaximumPercent = or(d.MaximumPercent, dc.MaximumPercent)
		dc.MinimumHealthyPercent = or(d.MinimumHealthyPercent, dc.MinimumHealthyPercent)
	}
	out.DeploymentConfiguration = &dc
	if h := sv.Healthcheck; h != nil {
		out.Healthcheck = &ContainerHealthcheck{Command: cloneStrings(h.Command),
			IntervalSeconds: or(h.IntervalSeconds, DefaultContainerInterval), TimeoutSeconds: or(h.TimeoutSeconds, DefaultContainerTimeout),
			Retries: or(h.Retries, DefaultContainerRetries), StartPeriodSeconds: h.StartPeriodSeconds}
	}
	if len(sv.DependsOn) > 0 {
		out.DependsOn = slices.Sorted(slices.Values(sv.DependsOn))
	}
	return out
}

// SecretRefs returns the names of the cluster secrets the stackfile
// refers to (values written ${NAME}), sorted, each once.
func (s *Stackfile) SecretRefs() []string {
	set := map[string]bool{}
	scan := func(env []EnvVar) {
		for _, e := range env {
			if name, ok := SecretRef(e.Value); ok {
				set[name] = true
			}
		}
	}
	scan(s.Defaults.Environment)
	for i := range s.Services {
		scan(s.Services[i].Environment)
	}
	return sortedKeys(set)
}

// mergeLogging merges svc over stack: svc's driver and options win.
func mergeLogging(stack, svc *Logging) *Logging {
	if stack == nil && svc == nil {
		return nil
	}
	out := cloneLogging(stack)
	if out == nil {
		out = &Logging{}
	}
	if svc != nil {
		out.LogDriver = or(svc.LogDriver, out.LogDriver)
		if len(svc.Options) > 0 && out.Options == nil {
			out.Options = map[string]string{}
		}
		maps.Copy(out.Options, svc.Options)
	}
	return out
}

func cloneLogging(l *Logging) *Logging {
	if l == nil {
		return nil
	}
	return &Logging{LogDriver: l.LogDriver, Options: maps.Clone(l.Options)}
}

func sortedEnv(env []EnvVar) []EnvVar {
	if len(env) == 0 {
		return nil
	}
	out := slices.Clone(env)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// cloneStrings copies s; an empty list becomes nil, its canonical form.
func cloneStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// or returns v, or def when v is the zero value.
func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
