// Package ecs runs a cluster's stack on Amazon ECS, as the desired-state
// seed's scheduler did (nysa-scheduler, SEEDS-CODE.md §2.3), with what it
// missed: every field of a service is compared, a removed service is
// deleted with what was made for it, and ${NAME} secrets never force a new
// task definition.
//
// map.go is the pure mapping from a normalised service to ECS's inputs;
// stack.go talks to AWS.
package ecs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/purserhq/purser"
)

// Docker labels Purser writes on the one container of a task definition.
// The spec is the normalised service as written (${NAME} values as
// references, without its desired count, which is the service's, not the
// task definition's); the hash is the spec's SHA-256. Actual reads the
// spec back, and a task definition is registered again only when the hash
// changes: resolved secret values never enter the comparison.
const (
	LabelSpec     = "purser.spec"
	LabelSpecHash = "purser.spec-hash"
)

// Network modes: host as the seed had it, awsvpc for services registered
// in Cloud Map (service discovery needs a task's own address).
const (
	NetworkHost   = types.NetworkModeHost
	NetworkAWSVPC = types.NetworkModeAwsvpc
)

// Family is the task definition family of a service: "<cluster>-<service>",
// cluster being the ECS cluster's name, as the seed named it.
func Family(cluster, service string) string { return cluster + "-" + service }

// SpecLabel returns the spec Purser records on the task definition (the
// service without its desired count, as JSON) and its hash. A one-off
// task keeps its count: it is how many run, once.
func SpecLabel(svc *purser.StackService) (spec, hash string) {
	s := *svc
	if s.Type == purser.ServiceTypeService {
		s.DesiredCount = nil
	}
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("a service does not encode: %v", err)) // plain types only
	}
	sum := sha256.Sum256(b)
	return string(b), hex.EncodeToString(sum[:])
}

// NetworkMode is the service's network mode: awsvpc when it registers in
// Cloud Map, else host.
func NetworkMode(svc *purser.StackService) types.NetworkMode {
	if svc.DNSDiscovery != nil {
		return NetworkAWSVPC
	}
	return NetworkHost
}

// TaskDefinition maps a normalised service to the task definition the
// seed registered: family "<cluster>-<service>", one essential container
// named after the service with its image, memory, privilege, environment
// (each ${NAME} resolved from secrets: a missing one is an error), port
// mappings, mount points and host volumes, log configuration and health
// check, in host or awsvpc network mode; plus the spec labels.
func TaskDefinition(cluster string, stack *purser.Stackfile, svc *purser.StackService, secrets map[string]string) (*ecs.RegisterTaskDefinitionInput, error) {
	_ = stack // the stack-wide sections are merged into svc by Normalize
	spec, hash := SpecLabel(svc)
	mode := NetworkMode(svc)
	c := types.ContainerDefinition{
		Name:         aws.String(svc.Name),
		Image:        aws.String(svc.Image),
		Essential:    aws.Bool(true),
		Memory:       aws.Int32(int32(svc.Memory)),
		Privileged:   aws.Bool(svc.Privileged),
		DockerLabels: map[string]string{LabelSpec: spec, LabelSpecHash: hash},
	}
	for _, e := range svc.Environment {
		v := e.Value
		if name, ok := purser.SecretRef(v); ok {
			s, found := secrets[name]
			if !found {
				return nil, fmt.Errorf("the secret ${%s} has no value", name)
			}
			v = s
		}
		c.Environment = append(c.Environment, types.KeyValuePair{Name: aws.String(e.Name), Value: aws.String(v)})
	}
	for _, p := range svc.Ports {
		host, ctr, err := splitPort(p)
		if err != nil {
			return nil, err
		}
		if mode == NetworkAWSVPC {
			host = ctr // awsvpc maps a port to itself
		}
		c.PortMappings = append(c.PortMappings, types.PortMapping{HostPort: aws.Int32(host), ContainerPort: aws.Int32(ctr), Protocol: types.TransportProtocolTcp})
	}
	var volumes []types.Volume
	for _, v := range svc.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) != 3 {
			return nil, fmt.Errorf("volume %q: want name:hostPath:containerPath", v)
		}
		volumes = append(volumes, types.Volume{Name: aws.String(parts[0]), Host: &types.HostVolumeProperties{SourcePath: aws.String(parts[1])}})
		c.MountPoints = append(c.MountPoints, types.MountPoint{SourceVolume: aws.String(parts[0]), ContainerPath: aws.String(parts[2]), ReadOnly: aws.Bool(false)})
	}
	if l := svc.Logging; l != nil && l.LogDriver != "" {
		c.LogConfiguration = &types.LogConfiguration{LogDriver: types.LogDriver(l.LogDriver), Options: l.Options}
	}
	if h := svc.Healthcheck; h != nil {
		c.HealthCheck = &types.HealthCheck{Command: h.Command, Interval: aws.Int32(int32(h.IntervalSeconds)),
			Timeout: aws.Int32(int32(h.TimeoutSeconds)), Retries: aws.Int32(int32(h.Retries))}
		if h.StartPeriodSeconds > 0 {
			c.HealthCheck.StartPeriod = aws.Int32(int32(h.StartPeriodSeconds))
		}
	}
	return &ecs.RegisterTaskDefinitionInput{
		Family:               aws.String(Family(cluster, svc.Name)),
		NetworkMode:          mode,
		ContainerDefinitions: []types.ContainerDefinition{c},
		Volumes:              volumes,
		Tags:                 []types.Tag{{Key: aws.String("purser:service"), Value: aws.String(svc.Name)}},
	}, nil
}

// splitPort reads "HOST:CONTAINER".
func splitPort(p string) (host, ctr int32, err error) {
	h, c, ok := strings.Cut(p, ":")
	hi, err1 := strconv.ParseInt(h, 10, 32)
	ci, err2 := strconv.ParseInt(c, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("port %q: want HOST:CONTAINER", p)
	}
	return int32(hi), int32(ci), nil
}

// ServiceSpec reads back the spec a task definition's container holds:
// the service as Purser last applied it, with the container's image and
// memory (which someone may have changed behind Purser's back). ok is
// false for a task definition Purser did not register.
func ServiceSpec(c *types.ContainerDefinition) (svc purser.StackService, ok bool) {
	raw, found := c.DockerLabels[LabelSpec]
	if !found {
		return svc, false
	}
	if err := json.Unmarshal([]byte(raw), &svc); err != nil {
		return svc, false
	}
	svc.Image = aws.ToString(c.Image)
	if c.Memory != nil {
		svc.Memory = int(*c.Memory)
	}
	return svc, true
}

// Name limits of ELBv2: load balancers and target groups take at most 32
// letters, digits and hyphens.
const maxELBName = 32

// LoadBalancerName is the seed's "<cluster>-<service>[-<elb.name>]-lb",
// shortened with a hash when longer than ELBv2 allows.
func LoadBalancerName(cluster, service string, e *purser.ELB) string {
	base := cluster + "-" + service
	if e.Name != "" {
		base += "-" + e.Name
	}
	return elbName(base, "-lb")
}

// TargetGroupName names the target group of a load balancer and container
// port: a new port (which a target group cannot change) is a new group.
func TargetGroupName(cluster, service string, e *purser.ELB) string {
	base := cluster + "-" + service
	if e.Name != "" {
		base += "-" + e.Name
	}
	return elbName(base, "-"+strconv.Itoa(e.Ports.Container))
}

// elbName is base+suffix, cut to ELBv2's limit with a short hash of base
// when too long, without a leading or trailing hyphen.
func elbName(base, suffix string) string {
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, base)
	if len(clean)+len(suffix) <= maxELBName {
		return strings.Trim(clean+suffix, "-")
	}
	sum := sha256.Sum256([]byte(base))
	h := hex.EncodeToString(sum[:])[:6]
	keep := maxELBName - len(suffix) - len(h) - 1
	return strings.Trim(clean[:keep], "-") + "-" + h + suffix
}

// Scheme is the load balancer's scheme for the elb type.
func Scheme(e *purser.ELB) string {
	if e.Type == purser.ELBPrivate {
		return "internal"
	}
	return "internet-facing"
}

// Placement returns the subnets and security groups for the elb type.
func Placement(vpc *purser.VPC, private bool) (subnets, groups []string) {
	if vpc == nil {
		return nil, nil
	}
	if private {
		return vpc.Subnets.Private, vpc.SecurityGroups.Private
	}
	return vpc.Subnets.Public, vpc.SecurityGroups.Public
}

// DeploymentConfiguration is the service's rollout bounds (Normalize
// fills in 200 % / 50 %).
func DeploymentConfiguration(svc *purser.StackService) *types.DeploymentConfiguration {
	d := svc.DeploymentConfiguration
	if d == nil {
		d = &purser.DeploymentConfiguration{MaximumPercent: purser.DefaultMaximumPercent, MinimumHealthyPercent: purser.DefaultMinimumHealthy}
	}
	return &types.DeploymentConfiguration{MaximumPercent: aws.Int32(int32(d.MaximumPercent)), MinimumHealthyPercent: aws.Int32(int32(d.MinimumHealthyPercent))}
}

// SchedulingStrategy is DAEMON for every_node (one task on each container
// instance), else REPLICA.
func SchedulingStrategy(svc *purser.StackService) types.SchedulingStrategy {
	if svc.PlacementStrategy == purser.PlacementEveryNode {
		return types.SchedulingStrategyDaemon
	}
	return types.SchedulingStrategyReplica
}
