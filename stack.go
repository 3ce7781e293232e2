package purser

// A stack is the desired state of a cluster's services, written as a
// stackfile: the compose-like format of the desired-state seed (nysa), with
// the fields its code read and a few its successors added. The model:
//
//   - Stackfile is a stackfile as written: top-level vpc, logging,
//     service_discovery and defaults, then services, an ordered list of
//     StackService (each written as a single-key map "- name: {...}").
//     internal/stackfile parses YAML or JSON into it and checks it against
//     the JSON Schema; Validate applies the rules a schema cannot state
//     (ports, references, names, cycles).
//   - Normalize returns the stackfile every later step works on: defaults
//     merged into each service (the service's environment wins), every
//     default filled in, environment and options in a canonical order. A
//     value written ${NAME} stays a reference to the cluster secret NAME:
//     nothing here resolves it (SecretRefs lists them, for the store to
//     check they exist).
//   - UpdateService and RemoveService are the seed's per-service changes
//     (a tag and a count, 0 included; a removal), made on a copy.
//   - Every accepted stackfile is an immutable, numbered StackRevision with
//     a status; StackHistory's decisions (Propose, Rollback,
//     RollBackFailed, Unblock, Prune) return the Change they imply, for the
//     store to commit.
//   - PlanStack compares a normalised stackfile with what the target runs
//     (ActualService) and says per service: create, update (field by
//     field), delete or unchanged, and why. The reconciler applies exactly
//     a plan. ServiceStatuses says per service whether it is in sync,
//     progressing, drifted or failed. DiffStacks and UnifiedDiff compare
//     two revisions.
//
// Everything here is pure: no I/O, no clock, no secrets.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// Stack defaults, as the seed's code had them.
const (
	DefaultStackMemory       = 1024 // MiB, when neither the service nor defaults say
	DefaultDesiredCount      = 1
	ServiceTypeService       = "service" // a long-running service; any other type is a one-off task
	PlacementEveryNode       = "every_node"
	ELBPublic                = "public"
	ELBPrivate               = "private"
	DefaultELBProtocol       = "HTTP"
	DefaultHealthPath        = "/"
	DefaultHealthInterval    = 30
	DefaultHealthTimeout     = 5
	DefaultHealthyCount      = 2
	DefaultUnhealthyCount    = 10
	DefaultMaximumPercent    = 200
	DefaultMinimumHealthy    = 50
	DefaultDNSFailureCount   = 1
	DefaultContainerRetries  = 3
	DefaultContainerInterval = 30
	DefaultContainerTimeout  = 5
)

// Stackfile is a cluster's desired state as written. Pointers are sections
// that may be left out; Services keeps the order it was written in.
type Stackfile struct {
	VPC              *VPC              `json:"vpc,omitempty"`
	Logging          *Logging          `json:"logging,omitempty"`
	ServiceDiscovery *ServiceDiscovery `json:"service_discovery,omitempty"`
	Defaults         StackDefaults     `json:"defaults"`
	Services         []StackService    `json:"services"`
}

// VPC is where the cluster's load balancers and service registrations go.
type VPC struct {
	ID             string        `json:"id,omitempty"`
	Subnets        PublicPrivate `json:"subnets"`
	SecurityGroups PublicPrivate `json:"security_groups"`
}

// PublicPrivate is a pair of id lists, for public and private placement.
type PublicPrivate struct {
	Public  []string `json:"public,omitempty"`
	Private []string `json:"private,omitempty"`
}

// Logging is a container's log configuration: a driver (awslogs, gelf,
// syslog...) and its options. Options need a driver.
type Logging struct {
	LogDriver string            `json:"log_driver,omitempty"`
	Options   map[string]string `json:"options,omitempty"`
}

// ServiceDiscovery names the private DNS namespace services register in.
type ServiceDiscovery struct {
	Namespace string `json:"namespace"`
}

// StackDefaults apply to every service that does not say otherwise.
type StackDefaults struct {
	Memory      int      `json:"memory,omitempty"` // MiB; 0: DefaultStackMemory
	Environment []EnvVar `json:"environment,omitempty"`
}

// EnvVar is one environment variable, written "- NAME: value". A value of
// the form ${SECRET} refers to a cluster secret (see SecretRef).
type EnvVar struct {
	Name  string
	Value string
}

// StackService is one service of a stack. Zero values mean "not written";
// Normalize fills in the defaults. DesiredCount is a pointer because 0 is
// a valid count (the seed could not scale to 0).
type StackService struct {
	Name                    string                   `json:"-"`
	Image                   string                   `json:"image"`
	Type                    string                   `json:"type,omitempty"`
	Memory                  int                      `json:"memory,omitempty"`
	DesiredCount            *int                     `json:"desired_count,omitempty"`
	Environment             []EnvVar                 `json:"environment,omitempty"`
	Privileged              bool                     `json:"privileged,omitempty"`
	Ports                   []string                 `json:"ports,omitempty"`   // "HOST:CONTAINER"
	Volumes                 []string                 `json:"volumes,omitempty"` // "name:hostPath:containerPath"
	PlacementStrategy       string                   `json:"placement_strategy,omitempty"`
	Logging                 *Logging                 `json:"logging,omitempty"`
	ELB                     *ELB                     `json:"elb,omitempty"`
	DNSDiscovery            *DNSDiscovery            `json:"dns_discovery,omitempty"`
	DeploymentConfiguration *DeploymentConfiguration `json:"deployment_configuration,omitempty"`
	Healthcheck             *ContainerHealthcheck    `json:"healthcheck,omitempty"`
	DependsOn               []string                 `json:"depends_on,omitempty"`
}

// ELB is a service's application load balancer.
type ELB struct {
	Name         string          `json:"name,omitempty"` // part of the LB's name
	Type         string          `json:"type"`           // public or private
	Protocol     string          `json:"protocol,omitempty"`
	Ports        ELBPorts        `json:"ports"`
	Certificates []string        `json:"certificates,omitempty"`
	DNS          *ELBDNS         `json:"dns,omitempty"`
	Healthcheck  *ELBHealthcheck `json:"healthcheck,omitempty"`
}

// ELBPorts are the port the load balancer listens on and the container's.
type ELBPorts struct {
	Public    int `json:"public"`
	Container int `json:"container"`
}

// ELBDNS is the Route 53 record pointing at the load balancer.
type ELBDNS struct {
	HostedZoneID string `json:"hosted_zone_id"`
	RecordName   string `json:"record_name"`
}

// ELBHealthcheck is how the load balancer checks its targets.
type ELBHealthcheck struct {
	Protocol                string `json:"protocol,omitempty"`
	Port                    int    `json:"port,omitempty"` // 0: the container port
	Path                    string `json:"path,omitempty"`
	IntervalSeconds         int    `json:"interval_seconds,omitempty"`
	TimeoutSeconds          int    `json:"timeout_seconds,omitempty"`
	HealthyThresholdCount   int    `json:"healthy_threshold_count,omitempty"`
	UnhealthyThresholdCount int    `json:"unhealthy_threshold_count,omitempty"`
}

// DNSDiscovery registers a service in the service-discovery namespace.
type DNSDiscovery struct {
	Name        string          `json:"name"`
	Healthcheck *DNSHealthcheck `json:"healthcheck,omitempty"`
}

// DNSHealthcheck is the registration's custom health check.
type DNSHealthcheck struct {
	FailureThreshold int `json:"failure_threshold,omitempty"`
}

// DeploymentConfiguration bounds a rollout, in percent of the desired count.
type DeploymentConfiguration struct {
	MaximumPercent        int `json:"maximum_percent,omitempty"`
	MinimumHealthyPercent int `json:"minimum_healthy_percent,omitempty"`
}

// ContainerHealthcheck is the container's own health check.
type ContainerHealthcheck struct {
	Command            []string `json:"command"`
	IntervalSeconds    int      `json:"interval_seconds,omitempty"`
	TimeoutSeconds     int      `json:"timeout_seconds,omitempty"`
	Retries            int      `json:"retries,omitempty"`
	StartPeriodSeconds int      `json:"start_period_seconds,omitempty"`
}

// Service returns the service named name, or nil.
func (s *Stackfile) Service(name string) *StackService {
	for i := range s.Services {
		if s.Services[i].Name == name {
			return &s.Services[i]
		}
	}
	return nil
}

// Count is the service's desired count: DesiredCount, or the default.
func (s *StackService) Count() int {
	if s.DesiredCount == nil {
		return DefaultDesiredCount
	}
	return *s.DesiredCount
}

// MarshalJSON writes the variable as the stackfile does: {"NAME": "value"}.
func (e EnvVar) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{e.Name: e.Value})
}

// UnmarshalJSON reads {"NAME": value}; a number or boolean value becomes
// its text, as the seed's str() did.
func (e *EnvVar) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if len(m) != 1 {
		return fmt.Errorf("an environment entry has exactly one name, not %d", len(m))
	}
	for k, raw := range m {
		v, err := scalarText(raw)
		if err != nil {
			return fmt.Errorf("environment %s: %w", k, err)
		}
		*e = EnvVar{Name: k, Value: v}
	}
	return nil
}

// scalarText is a JSON string, number or boolean as text (a number as
// written).
func scalarText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", fmt.Errorf("must be a string, a number or a boolean")
	}
	switch c := raw[0]; {
	case c == '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case c == 't' || c == 'f':
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return "", err
		}
		return strconv.FormatBool(b), nil
	case c == '-' || (c >= '0' && c <= '9'):
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", err
		}
		return n.String(), nil
	}
	return "", fmt.Errorf("must be a string, a number or a boolean")
}

// stackServiceFields is StackService without its methods, for encoding.
type stackServiceFields StackService

// MarshalJSON writes the service as the stackfile does: {"name": {...}}.
func (s StackService) MarshalJSON() ([]byte, error) {
	body, err := json.Marshal(stackServiceFields(s))
	if err != nil {
		return nil, err
	}
	name, _ := json.Marshal(s.Name)
	return []byte(`{` + string(name) + `:` + string(body) + `}`), nil
}

// UnmarshalJSON reads {"name": {...}}, streaming: the one key, then its
// body straight into the fields (services are decoded on every read of a
// revision).
func (s *StackService) UnmarshalJSON(b []byte) error {
	d := json.NewDecoder(bytes.NewReader(b))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("a service is a map with exactly one key, its name")
	}
	n := 0
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return err
		}
		k, _ := t.(string)
		var f stackServiceFields
		if err := d.Decode(&f); err != nil {
			return fmt.Errorf("service %s: %w", k, err)
		}
		*s = StackService(f)
		s.Name = k
		n++
	}
	if n != 1 {
		return fmt.Errorf("a service is a map with exactly one key, its name, not %d", n)
	}
	return nil
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
