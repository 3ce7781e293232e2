package ecs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/smithy-go"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/awsclient"
)

// DefaultPollInterval is how often a rollout's progress is read.
const DefaultPollInterval = 3 * time.Second

// StackTarget runs the services of ecs clusters on Amazon ECS (or on an
// endpoint that speaks its API, such as moto). It keeps nothing: what runs
// and how it was written are read back from ECS each time.
type StackTarget struct {
	// HTTPClient carries the AWS calls; nil: the SDK's default.
	HTTPClient *http.Client
	// PollInterval is how often a rollout's progress is read.
	PollInterval time.Duration
}

var _ purser.StackTarget = (*StackTarget)(nil)

// NewStackTarget returns the ECS target; hc may be nil.
func NewStackTarget(hc *http.Client) *StackTarget {
	return &StackTarget{HTTPClient: hc, PollInterval: DefaultPollInterval}
}

// clients are one cluster's AWS clients.
type clients struct {
	cluster string // the ECS cluster's name
	ecs     *ecs.Client
	elb     *elb.Client
	r53     *route53.Client
	sd      *sd.Client
}

// clients builds the AWS clients of c from its own credentials, never
// from the environment or shared files (DESIGN.md, security model).
func (t *StackTarget) clients(c *purser.Cluster) (*clients, error) {
	var hc aws.HTTPClient
	if t.HTTPClient != nil {
		hc = t.HTTPClient
	}
	cfg, err := awsclient.Config(c, c.Region, hc, 3, "running a stack")
	if err != nil {
		return nil, err
	}
	r53cfg := cfg
	if c.Endpoint == "" {
		r53cfg.Region = "us-east-1" // Route 53 is global
	}
	return &clients{cluster: c.ECSCluster, ecs: ecs.NewFromConfig(cfg), elb: elb.NewFromConfig(cfg),
		r53: route53.NewFromConfig(r53cfg), sd: sd.NewFromConfig(cfg)}, nil
}

// managed is a service Purser runs on ECS, as read back.
type managed struct {
	svc  types.Service
	spec purser.StackService
	hash string
	td   *types.TaskDefinition
}

// list reads the ECS cluster's services and keeps those whose task
// definition Purser registered (family <cluster>-<name>, spec label).
func (cl *clients) list(ctx context.Context) ([]managed, error) {
	var arns []string
	p := ecs.NewListServicesPaginator(cl.ecs, &ecs.ListServicesInput{Cluster: aws.String(cl.cluster)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, awsError("ListServices", err)
		}
		arns = append(arns, out.ServiceArns...)
	}
	var found []managed
	for i := 0; i < len(arns); i += 10 {
		out, err := cl.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cl.cluster), Services: arns[i:min(i+10, len(arns))]})
		if err != nil {
			return nil, awsError("DescribeServices", err)
		}
		for _, s := range out.Services {
			if aws.ToString(s.Status) != "ACTIVE" {
				continue
			}
			m, ok, err := cl.read(ctx, s)
			if err != nil {
				return nil, err
			}
			if ok {
				found = append(found, m)
			}
		}
	}
	return found, nil
}

// read reads back s's spec from its task definition; ok is false for a
// service Purser did not make.
func (cl *clients) read(ctx context.Context, s types.Service) (managed, bool, error) {
	out, err := cl.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: s.TaskDefinition})
	if err != nil {
		return managed{}, false, awsError("DescribeTaskDefinition", err)
	}
	td := out.TaskDefinition
	name := aws.ToString(s.ServiceName)
	if td == nil || aws.ToString(td.Family) != Family(cl.cluster, name) || len(td.ContainerDefinitions) == 0 {
		return managed{}, false, nil
	}
	spec, ok := ServiceSpec(&td.ContainerDefinitions[0])
	if !ok {
		return managed{}, false, nil
	}
	spec.Name = name
	if s.SchedulingStrategy != types.SchedulingStrategyDaemon {
		n := int(s.DesiredCount)
		spec.DesiredCount = &n
	} else {
		n := spec.Count()
		spec.DesiredCount = &n
	}
	return managed{svc: s, spec: spec, hash: td.ContainerDefinitions[0].DockerLabels[LabelSpecHash], td: td}, true, nil
}

// find returns the managed service named name, or nil.
func (cl *clients) find(ctx context.Context, name string) (*managed, error) {
	out, err := cl.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cl.cluster), Services: []string{name}})
	if err != nil {
		return nil, awsError("DescribeServices", err)
	}
	for _, s := range out.Services {
		if aws.ToString(s.Status) != "ACTIVE" {
			continue
		}
		m, ok, err := cl.read(ctx, s)
		if err != nil || !ok {
			return nil, err
		}
		return &m, nil
	}
	return nil, nil
}

// Actual returns the services Purser runs on the cluster: the spec each
// task definition records, with the live image, memory and desired count.
func (t *StackTarget) Actual(ctx context.Context, c *purser.Cluster) ([]purser.ActualService, error) {
	cl, err := t.clients(c)
	if err != nil {
		return nil, err
	}
	ms, err := cl.list(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]purser.ActualService, len(ms))
	seen := map[string]bool{}
	for i, m := range ms {
		out[i] = purser.ActualService{Spec: m.spec, RunningCount: int(m.svc.RunningCount)}
		seen[aws.ToString(m.td.Family)] = true
	}
	tasks, err := cl.tasks(ctx, seen)
	if err != nil {
		return nil, err
	}
	out = append(out, tasks...)
	sort.Slice(out, func(i, j int) bool { return out[i].Spec.Name < out[j].Spec.Name })
	return out, nil
}

// Apply carries out one service's step: create or update it (a new task
// definition only when its spec changed), or delete it with its load
// balancer, record and discovery service; then waits for health.
func (t *StackTarget) Apply(ctx context.Context, c *purser.Cluster, step purser.ServicePlan, in purser.ApplyInput) error {
	if step.Action == purser.PlanUnchanged {
		return nil
	}
	cl, err := t.clients(c)
	if err != nil {
		return err
	}
	cur, err := cl.find(ctx, step.Service)
	if err != nil {
		return err
	}
	if step.Action == purser.PlanDelete || in.Service == nil {
		return t.delete(ctx, cl, in.Stack, step.Service, cur, in.Healthy)
	}
	svc := in.Service
	if svc.Type != purser.ServiceTypeService {
		if err := t.checkImage(ctx, c, svc.Name, svc.Image); err != nil {
			return err
		}
		return cl.runTask(ctx, in.Stack, svc, in.Secrets)
	}
	if in.Stack == nil {
		in.Stack = &purser.Stackfile{}
	}
	tdArn, err := t.taskDefinition(ctx, c, cl, cur, in)
	if err != nil {
		return err
	}
	var old *purser.StackService
	if cur != nil {
		old = &cur.spec
	}
	lbs, err := cl.ensureELB(ctx, in.Stack, svc)
	if err != nil {
		return err
	}
	regs, err := cl.ensureDiscovery(ctx, in.Stack, svc)
	if err != nil {
		return err
	}
	if cur != nil && cur.svc.SchedulingStrategy != SchedulingStrategy(svc) {
		// ECS cannot change a service's scheduling strategy (every_node
		// added or removed): the service is made again.
		if err := cl.deleteService(ctx, cur, in.Healthy); err != nil {
			return err
		}
		cur = nil
	}
	if cur == nil {
		create := &ecs.CreateServiceInput{
			Cluster: aws.String(cl.cluster), ServiceName: aws.String(svc.Name), TaskDefinition: aws.String(tdArn),
			DeploymentConfiguration: DeploymentConfiguration(svc), SchedulingStrategy: SchedulingStrategy(svc),
			LoadBalancers: lbs, ServiceRegistries: regs, NetworkConfiguration: networkConfiguration(in.Stack, svc),
			Tags: []types.Tag{{Key: aws.String("purser:service"), Value: aws.String(svc.Name)}},
		}
		if create.SchedulingStrategy == types.SchedulingStrategyReplica {
			create.DesiredCount = aws.Int32(int32(svc.Count()))
		}
		if _, err := cl.ecs.CreateService(ctx, create); err != nil {
			return refused(svc.Name, "CreateService", err)
		}
	} else {
		up := &ecs.UpdateServiceInput{
			Cluster: aws.String(cl.cluster), Service: aws.String(svc.Name), TaskDefinition: aws.String(tdArn),
			DeploymentConfiguration: DeploymentConfiguration(svc),
			LoadBalancers:           orEmpty(lbs), ServiceRegistries: orEmptyRegs(regs), NetworkConfiguration: networkConfiguration(in.Stack, svc),
		}
		if cur.svc.SchedulingStrategy != types.SchedulingStrategyDaemon {
			up.DesiredCount = aws.Int32(int32(svc.Count()))
		}
		if _, err := cl.ecs.UpdateService(ctx, up); err != nil {
			return refused(svc.Name, "UpdateService", err)
		}
	}
	// What the old spec had and the new one has no more goes.
	if err := cl.dropStale(ctx, in.Stack, old, svc); err != nil {
		return err
	}
	return t.waitHealthy(ctx, cl, svc.Name, tdArn, in.Healthy)
}

// taskDefinition returns the task definition the service runs: its
// current one when the spec is unchanged, else a new one registered once
// its image is known to exist.
func (t *StackTarget) taskDefinition(ctx context.Context, c *purser.Cluster, cl *clients, cur *managed, in purser.ApplyInput) (string, error) {
	svc := in.Service
	_, hash := SpecLabel(svc)
	if cur != nil && cur.hash == hash && aws.ToString(cur.td.ContainerDefinitions[0].Image) == svc.Image &&
		int(aws.ToInt32(cur.td.ContainerDefinitions[0].Memory)) == svc.Memory {
		return aws.ToString(cur.td.TaskDefinitionArn), nil
	}
	if err := t.checkImage(ctx, c, svc.Name, svc.Image); err != nil {
		return "", err
	}
	input, err := TaskDefinition(cl.cluster, in.Stack, svc, in.Secrets)
	if err != nil {
		return "", &purser.RolloutError{Service: svc.Name, Reason: err.Error()}
	}
	out, err := cl.ecs.RegisterTaskDefinition(ctx, input)
	if err != nil {
		return "", refused(svc.Name, "RegisterTaskDefinition", err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn), nil
}

func orEmpty(l []types.LoadBalancer) []types.LoadBalancer {
	if l == nil {
		return []types.LoadBalancer{}
	}
	return l
}

func orEmptyRegs(l []types.ServiceRegistry) []types.ServiceRegistry {
	if l == nil {
		return []types.ServiceRegistry{}
	}
	return l
}

// networkConfiguration places an awsvpc service in the private subnets.
func networkConfiguration(stack *purser.Stackfile, svc *purser.StackService) *types.NetworkConfiguration {
	if NetworkMode(svc) != NetworkAWSVPC {
		return nil
	}
	subnets, groups := Placement(stack.VPC, true)
	return &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: subnets, SecurityGroups: groups}}
}

// awsError keeps what AWS said (its code and message), without the
// request's plumbing.
func awsError(op string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Errorf("ecs: %s: %s: %s", op, ae.ErrorCode(), ae.ErrorMessage())
	}
	return fmt.Errorf("ecs: %s: %w", op, err)
}

// refused is a call ECS refused for a reason the user can act on (an
// invalid parameter, a missing resource): the rollout fails; other errors
// pass, and are tried again.
func refused(service, op string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorFault() == smithy.FaultClient && !strings.Contains(ae.ErrorCode(), "Throttl") {
		return &purser.RolloutError{Service: service, Reason: fmt.Sprintf("%s refused: %s: %s", op, ae.ErrorCode(), ae.ErrorMessage())}
	}
	return awsError(op, err)
}

// notFound reports whether AWS said the thing is not there.
func notFound(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && (strings.Contains(ae.ErrorCode(), "NotFound") || strings.Contains(ae.ErrorCode(), "NoSuch"))
}
