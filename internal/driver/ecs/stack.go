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
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	sdtypes "github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
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
		return cl.runTask(ctx, in.Stack, svc, in.Secrets)
	}
	if in.Stack == nil {
		in.Stack = &purser.Stackfile{}
	}
	// The task definition: registered again only when the spec changed.
	tdArn := ""
	_, hash := SpecLabel(svc)
	if cur != nil && cur.hash == hash && aws.ToString(cur.td.ContainerDefinitions[0].Image) == svc.Image &&
		int(aws.ToInt32(cur.td.ContainerDefinitions[0].Memory)) == svc.Memory {
		tdArn = aws.ToString(cur.td.TaskDefinitionArn)
	} else {
		input, err := TaskDefinition(cl.cluster, in.Stack, svc, in.Secrets)
		if err != nil {
			return &purser.RolloutError{Service: svc.Name, Reason: err.Error()}
		}
		out, err := cl.ecs.RegisterTaskDefinition(ctx, input)
		if err != nil {
			return refused(svc.Name, "RegisterTaskDefinition", err)
		}
		tdArn = aws.ToString(out.TaskDefinition.TaskDefinitionArn)
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

// waitHealthy polls the service until its running count reaches its
// desired count on task definition tdArn with the old deployments gone,
// or the deadline passes (a RolloutError naming tasks and events).
func (t *StackTarget) waitHealthy(ctx context.Context, cl *clients, name, tdArn string, within time.Duration) error {
	if within <= 0 {
		within = purser.DefaultHealthyDeadline
	}
	deadline := time.Now().Add(within)
	poll := t.PollInterval
	if poll <= 0 {
		poll = DefaultPollInterval
	}
	for {
		out, err := cl.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cl.cluster), Services: []string{name}})
		if err != nil {
			return awsError("DescribeServices", err)
		}
		if len(out.Services) == 0 {
			return &purser.RolloutError{Service: name, Reason: "the ECS service disappeared during its rollout"}
		}
		s := out.Services[0]
		done, failed := healthy(s, tdArn)
		if failed != "" {
			return &purser.RolloutError{Service: name, Reason: failed + cl.tasksReport(ctx, s)}
		}
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return &purser.RolloutError{Service: name, Reason: fmt.Sprintf("%d of %d tasks running on %s after %s%s",
				s.RunningCount, s.DesiredCount, shortTD(tdArn), within, cl.tasksReport(ctx, s))}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(poll, time.Until(deadline)+10*time.Millisecond)):
		}
	}
}

// healthy reports whether s runs its desired count on tdArn with only its
// primary deployment left; failed says why a deployment failed for good.
func healthy(s types.Service, tdArn string) (done bool, failed string) {
	for _, d := range s.Deployments {
		if aws.ToString(d.Status) == "PRIMARY" && d.RolloutState == types.DeploymentRolloutStateFailed {
			return false, "the deployment failed: " + aws.ToString(d.RolloutStateReason)
		}
	}
	if aws.ToString(s.TaskDefinition) != tdArn || s.RunningCount != s.DesiredCount {
		return false, ""
	}
	primaries := 0
	for _, d := range s.Deployments {
		if aws.ToString(d.Status) != "PRIMARY" {
			return false, "" // an older deployment still drains
		}
		primaries++
	}
	return primaries <= 1, ""
}

// tasksReport names the service's tasks with their status and stopped
// reason, and its last events, for a RolloutError.
func (cl *clients) tasksReport(ctx context.Context, s types.Service) string {
	var b strings.Builder
	var arns []string
	for _, status := range []types.DesiredStatus{types.DesiredStatusRunning, types.DesiredStatusStopped} {
		out, err := cl.ecs.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(cl.cluster), ServiceName: s.ServiceName, DesiredStatus: status})
		if err == nil {
			arns = append(arns, out.TaskArns...)
		}
	}
	if len(arns) > 10 {
		arns = arns[:10]
	}
	if len(arns) > 0 {
		if out, err := cl.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cl.cluster), Tasks: arns}); err == nil {
			for _, task := range out.Tasks {
				id := aws.ToString(task.TaskArn)
				id = id[strings.LastIndex(id, "/")+1:]
				b.WriteString(fmt.Sprintf("; task %s %s", id, strings.ToLower(aws.ToString(task.LastStatus))))
				if r := aws.ToString(task.StoppedReason); r != "" {
					b.WriteString(": " + r)
				}
			}
		}
	} else {
		b.WriteString("; no tasks")
	}
	for i, e := range s.Events {
		if i == 3 {
			break
		}
		b.WriteString("; event: " + aws.ToString(e.Message))
	}
	return b.String()
}

func shortTD(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// delete scales the service to 0, deletes it, then its load balancer,
// record, discovery service and task definitions.
func (t *StackTarget) delete(ctx context.Context, cl *clients, stack *purser.Stackfile, name string, cur *managed, within time.Duration) error {
	if cur != nil {
		if err := cl.deleteService(ctx, cur, within); err != nil {
			return err
		}
		if err := cl.dropStale(ctx, stack, &cur.spec, nil); err != nil {
			return err
		}
	}
	// A one-off task has no service: its task definitions are all it has.
	p := ecs.NewListTaskDefinitionsPaginator(cl.ecs, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(Family(cl.cluster, name)), Status: types.TaskDefinitionStatusActive})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return awsError("ListTaskDefinitions", err)
		}
		for _, arn := range out.TaskDefinitionArns {
			if !strings.Contains(arn, "/"+Family(cl.cluster, name)+":") {
				continue // another family with this prefix
			}
			if _, err := cl.ecs.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(arn)}); err != nil && !notFound(err) {
				return awsError("DeregisterTaskDefinition", err)
			}
		}
	}
	return nil
}

// tasks returns the one-off tasks Purser ran: the latest ACTIVE task
// definition of each family <cluster>-* not in services whose spec label
// says a type other than service. They run once: RunningCount is 0.
func (cl *clients) tasks(ctx context.Context, services map[string]bool) ([]purser.ActualService, error) {
	var out []purser.ActualService
	p := ecs.NewListTaskDefinitionFamiliesPaginator(cl.ecs, &ecs.ListTaskDefinitionFamiliesInput{
		FamilyPrefix: aws.String(cl.cluster + "-"), Status: types.TaskDefinitionFamilyStatusActive})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, awsError("ListTaskDefinitionFamilies", err)
		}
		for _, family := range page.Families {
			if services[family] {
				continue
			}
			td, err := cl.latest(ctx, family)
			if err != nil {
				return nil, err
			}
			if td == nil || len(td.ContainerDefinitions) == 0 {
				continue
			}
			spec, ok := ServiceSpec(&td.ContainerDefinitions[0])
			if ok && spec.Type != purser.ServiceTypeService && Family(cl.cluster, spec.Name) == family {
				out = append(out, purser.ActualService{Spec: spec})
			}
		}
	}
	return out, nil
}

// latest returns the family's latest ACTIVE task definition, or nil.
func (cl *clients) latest(ctx context.Context, family string) (*types.TaskDefinition, error) {
	out, err := cl.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(family)})
	if err != nil {
		var ae smithy.APIError
		if notFound(err) || errors.As(err, &ae) && ae.ErrorCode() == "ClientException" {
			return nil, nil
		}
		return nil, awsError("DescribeTaskDefinition", err)
	}
	if out.TaskDefinition == nil || out.TaskDefinition.Status != types.TaskDefinitionStatusActive {
		return nil, nil
	}
	return out.TaskDefinition, nil
}

// runTask runs a one-off task as the seed did (RunTask of the family), once
// per spec: a spec already registered (the same hash) is not run again. A
// task ECS does not start fails the rollout, and its new revision is
// deregistered so that the next deploy tries again. Purser does not wait
// for a one-off task to finish.
func (cl *clients) runTask(ctx context.Context, stack *purser.Stackfile, svc *purser.StackService, secrets map[string]string) error {
	cur, err := cl.latest(ctx, Family(cl.cluster, svc.Name))
	if err != nil {
		return err
	}
	_, hash := SpecLabel(svc)
	if cur != nil && len(cur.ContainerDefinitions) > 0 && cur.ContainerDefinitions[0].DockerLabels[LabelSpecHash] == hash {
		return nil
	}
	input, err := TaskDefinition(cl.cluster, stack, svc, secrets)
	if err != nil {
		return &purser.RolloutError{Service: svc.Name, Reason: err.Error()}
	}
	reg, err := cl.ecs.RegisterTaskDefinition(ctx, input)
	if err != nil {
		return refused(svc.Name, "RegisterTaskDefinition", err)
	}
	arn := reg.TaskDefinition.TaskDefinitionArn
	if svc.Count() == 0 {
		return nil
	}
	out, err := cl.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(cl.cluster), TaskDefinition: arn, Count: aws.Int32(int32(min(svc.Count(), 10))),
		StartedBy: aws.String("purser"), NetworkConfiguration: networkConfiguration(stack, svc)})
	if err == nil && len(out.Tasks) > 0 {
		return nil
	}
	_, _ = cl.ecs.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: arn})
	if err != nil {
		return refused(svc.Name, "RunTask", err)
	}
	reason := "ECS started no task"
	for _, f := range out.Failures {
		reason += fmt.Sprintf("; %s: %s", aws.ToString(f.Arn), aws.ToString(f.Reason))
	}
	if len(out.Failures) == 0 {
		reason += " (no container instance could take it)"
	}
	return &purser.RolloutError{Service: svc.Name, Reason: reason}
}

// deleteService scales the ECS service to 0, deletes it, and waits until
// ECS has drained it (INACTIVE), so that its name can be used again.
func (cl *clients) deleteService(ctx context.Context, cur *managed, within time.Duration) error {
	name := aws.ToString(cur.svc.ServiceName)
	if cur.svc.SchedulingStrategy != types.SchedulingStrategyDaemon {
		if _, err := cl.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(cl.cluster), Service: aws.String(name), DesiredCount: aws.Int32(0)}); err != nil {
			return awsError("UpdateService", err)
		}
	}
	if _, err := cl.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(cl.cluster), Service: aws.String(name), Force: aws.Bool(true)}); err != nil && !notFound(err) {
		return awsError("DeleteService", err)
	}
	if within <= 0 {
		within = purser.DefaultHealthyDeadline
	}
	deadline := time.Now().Add(within)
	for {
		out, err := cl.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cl.cluster), Services: []string{name}})
		if err != nil {
			return awsError("DescribeServices", err)
		}
		if len(out.Services) == 0 || aws.ToString(out.Services[0].Status) == "INACTIVE" {
			return nil
		}
		if time.Now().After(deadline) {
			return &purser.RolloutError{Service: name, Reason: fmt.Sprintf("the ECS service was still %s %s after its deletion",
				strings.ToLower(aws.ToString(out.Services[0].Status)), within)}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// dropStale deletes what old had and svc (nil: deleted) has no more: the
// old load balancer's record, listener, target group and load balancer,
// and the old discovery service.
func (cl *clients) dropStale(ctx context.Context, stack *purser.Stackfile, old, svc *purser.StackService) error {
	if old == nil {
		return nil
	}
	if e := old.ELB; e != nil {
		var ne *purser.ELB
		if svc != nil {
			ne = svc.ELB
		}
		lbGone := ne == nil || LoadBalancerName(cl.cluster, svc.Name, ne) != LoadBalancerName(cl.cluster, old.Name, e)
		tgGone := lbGone || TargetGroupName(cl.cluster, svc.Name, ne) != TargetGroupName(cl.cluster, old.Name, e)
		dnsGone := e.DNS != nil && (lbGone || ne.DNS == nil || *ne.DNS != *e.DNS)
		if err := cl.dropELB(ctx, old.Name, e, lbGone, tgGone, dnsGone); err != nil {
			return err
		}
	}
	if d := old.DNSDiscovery; d != nil && stack != nil && (svc == nil || svc.DNSDiscovery == nil || svc.DNSDiscovery.Name != d.Name) {
		if err := cl.dropDiscovery(ctx, stack, d.Name); err != nil {
			return err
		}
	}
	return nil
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

// ensureELB makes the service's load balancer, target group, listener and
// record as svc.ELB says (creating what is missing, correcting what
// differs), and returns the service's load balancer wiring.
func (cl *clients) ensureELB(ctx context.Context, stack *purser.Stackfile, svc *purser.StackService) ([]types.LoadBalancer, error) {
	e := svc.ELB
	if e == nil {
		return nil, nil
	}
	lbName, tgName := LoadBalancerName(cl.cluster, svc.Name, e), TargetGroupName(cl.cluster, svc.Name, e)
	lb, err := cl.loadBalancer(ctx, lbName)
	if err != nil {
		return nil, err
	}
	if lb == nil {
		subnets, groups := Placement(stack.VPC, e.Type == purser.ELBPrivate)
		out, err := cl.elb.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{
			Name: aws.String(lbName), Subnets: subnets, SecurityGroups: groups,
			Scheme: elbtypes.LoadBalancerSchemeEnum(Scheme(e)), IpAddressType: elbtypes.IpAddressTypeIpv4,
			Type: elbtypes.LoadBalancerTypeEnumApplication,
			Tags: []elbtypes.Tag{{Key: aws.String("ecs_cluster"), Value: aws.String(cl.cluster)}, {Key: aws.String("purser:service"), Value: aws.String(svc.Name)}},
		})
		if err != nil {
			return nil, refused(svc.Name, "CreateLoadBalancer", err)
		}
		lb = &out.LoadBalancers[0]
	}
	h := e.Healthcheck
	if h == nil {
		h = &purser.ELBHealthcheck{Protocol: purser.DefaultELBProtocol, Port: e.Ports.Container, Path: purser.DefaultHealthPath,
			IntervalSeconds: purser.DefaultHealthInterval, TimeoutSeconds: purser.DefaultHealthTimeout,
			HealthyThresholdCount: purser.DefaultHealthyCount, UnhealthyThresholdCount: purser.DefaultUnhealthyCount}
	}
	port := fmt.Sprint(h.Port)
	if h.Port == 0 {
		port = "traffic-port"
	}
	var tgArn string
	tgs, err := cl.elb.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{tgName}})
	if err != nil && !notFound(err) {
		return nil, awsError("DescribeTargetGroups", err)
	}
	if err == nil && len(tgs.TargetGroups) > 0 {
		tgArn = aws.ToString(tgs.TargetGroups[0].TargetGroupArn)
		if _, err := cl.elb.ModifyTargetGroup(ctx, &elb.ModifyTargetGroupInput{TargetGroupArn: aws.String(tgArn),
			HealthCheckProtocol: elbtypes.ProtocolEnum(h.Protocol), HealthCheckPort: aws.String(port), HealthCheckPath: aws.String(h.Path),
			HealthCheckIntervalSeconds: aws.Int32(int32(h.IntervalSeconds)), HealthCheckTimeoutSeconds: aws.Int32(int32(h.TimeoutSeconds)),
			HealthyThresholdCount: aws.Int32(int32(h.HealthyThresholdCount)), UnhealthyThresholdCount: aws.Int32(int32(h.UnhealthyThresholdCount))}); err != nil {
			return nil, refused(svc.Name, "ModifyTargetGroup", err)
		}
	} else {
		in := &elb.CreateTargetGroupInput{Name: aws.String(tgName), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(int32(e.Ports.Container)),
			HealthCheckProtocol: elbtypes.ProtocolEnum(h.Protocol), HealthCheckPort: aws.String(port), HealthCheckPath: aws.String(h.Path),
			HealthCheckIntervalSeconds: aws.Int32(int32(h.IntervalSeconds)), HealthCheckTimeoutSeconds: aws.Int32(int32(h.TimeoutSeconds)),
			HealthyThresholdCount: aws.Int32(int32(h.HealthyThresholdCount)), UnhealthyThresholdCount: aws.Int32(int32(h.UnhealthyThresholdCount)),
			Tags: []elbtypes.Tag{{Key: aws.String("purser:service"), Value: aws.String(svc.Name)}}}
		if stack.VPC != nil && stack.VPC.ID != "" {
			in.VpcId = aws.String(stack.VPC.ID)
		}
		if NetworkMode(svc) == NetworkAWSVPC {
			in.TargetType = elbtypes.TargetTypeEnumIp
		}
		out, err := cl.elb.CreateTargetGroup(ctx, in)
		if err != nil {
			return nil, refused(svc.Name, "CreateTargetGroup", err)
		}
		tgArn = aws.ToString(out.TargetGroups[0].TargetGroupArn)
	}
	// The listener on the public port forwards to the target group; a
	// listener on another port (an earlier spec's) goes.
	ls, err := cl.elb.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancerArn})
	if err != nil {
		return nil, awsError("DescribeListeners", err)
	}
	var certs []elbtypes.Certificate
	for _, arn := range e.Certificates {
		certs = append(certs, elbtypes.Certificate{CertificateArn: aws.String(arn)})
	}
	action := []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgArn)}}
	have := false
	for _, l := range ls.Listeners {
		if aws.ToInt32(l.Port) != int32(e.Ports.Public) {
			if _, err := cl.elb.DeleteListener(ctx, &elb.DeleteListenerInput{ListenerArn: l.ListenerArn}); err != nil && !notFound(err) {
				return nil, awsError("DeleteListener", err)
			}
			continue
		}
		have = true
		if _, err := cl.elb.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: l.ListenerArn, Protocol: elbtypes.ProtocolEnum(e.Protocol),
			Port: aws.Int32(int32(e.Ports.Public)), Certificates: certs, DefaultActions: action}); err != nil {
			return nil, refused(svc.Name, "ModifyListener", err)
		}
	}
	if !have {
		if _, err := cl.elb.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: elbtypes.ProtocolEnum(e.Protocol),
			Port: aws.Int32(int32(e.Ports.Public)), Certificates: certs, DefaultActions: action}); err != nil {
			return nil, refused(svc.Name, "CreateListener", err)
		}
	}
	if d := e.DNS; d != nil {
		if err := cl.record(ctx, r53types.ChangeActionUpsert, d, lb); err != nil {
			return nil, refused(svc.Name, "ChangeResourceRecordSets", err)
		}
	}
	return []types.LoadBalancer{{TargetGroupArn: aws.String(tgArn), ContainerName: aws.String(svc.Name), ContainerPort: aws.Int32(int32(e.Ports.Container))}}, nil
}

// loadBalancer returns the load balancer named name, or nil.
func (cl *clients) loadBalancer(ctx context.Context, name string) (*elbtypes.LoadBalancer, error) {
	out, err := cl.elb.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{name}})
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, awsError("DescribeLoadBalancers", err)
	}
	if len(out.LoadBalancers) == 0 {
		return nil, nil
	}
	return &out.LoadBalancers[0], nil
}

// record upserts or deletes the A alias record pointing at lb.
func (cl *clients) record(ctx context.Context, action r53types.ChangeAction, d *purser.ELBDNS, lb *elbtypes.LoadBalancer) error {
	_, err := cl.r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(d.HostedZoneID),
		ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: action, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: aws.String(d.RecordName), Type: r53types.RRTypeA,
			AliasTarget: &r53types.AliasTarget{DNSName: lb.DNSName, HostedZoneId: lb.CanonicalHostedZoneId, EvaluateTargetHealth: false},
		}}}},
	})
	return err
}

// dropELB deletes what an old elb spec made and the new one no longer
// uses: its record, then its load balancer (with its listeners) and its
// target group.
func (cl *clients) dropELB(ctx context.Context, service string, e *purser.ELB, lbGone, tgGone, dnsGone bool) error {
	lb, err := cl.loadBalancer(ctx, LoadBalancerName(cl.cluster, service, e))
	if err != nil {
		return err
	}
	if dnsGone && lb != nil {
		if err := cl.record(ctx, r53types.ChangeActionDelete, e.DNS, lb); err != nil && !notFound(err) && !strings.Contains(err.Error(), "InvalidChangeBatch") {
			return awsError("ChangeResourceRecordSets", err)
		}
	}
	if lbGone && lb != nil {
		ls, err := cl.elb.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancerArn})
		if err != nil {
			return awsError("DescribeListeners", err)
		}
		for _, l := range ls.Listeners {
			if _, err := cl.elb.DeleteListener(ctx, &elb.DeleteListenerInput{ListenerArn: l.ListenerArn}); err != nil && !notFound(err) {
				return awsError("DeleteListener", err)
			}
		}
		if _, err := cl.elb.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: lb.LoadBalancerArn}); err != nil && !notFound(err) {
			return awsError("DeleteLoadBalancer", err)
		}
	}
	if tgGone {
		tgs, err := cl.elb.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{TargetGroupName(cl.cluster, service, e)}})
		if err != nil && !notFound(err) {
			return awsError("DescribeTargetGroups", err)
		}
		if err == nil {
			for _, tg := range tgs.TargetGroups {
				if _, err := cl.elb.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: tg.TargetGroupArn}); err != nil && !notFound(err) {
					return awsError("DeleteTargetGroup", err)
				}
			}
		}
	}
	return nil
}

// namespace returns the id of the stack's private DNS namespace, creating
// it (in the stack's VPC) when create is true; "" when absent.
func (cl *clients) namespace(ctx context.Context, stack *purser.Stackfile, create bool) (string, error) {
	if stack.ServiceDiscovery == nil || stack.ServiceDiscovery.Namespace == "" {
		return "", fmt.Errorf("dns_discovery needs service_discovery.namespace")
	}
	name := stack.ServiceDiscovery.Namespace
	p := sd.NewListNamespacesPaginator(cl.sd, &sd.ListNamespacesInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return "", awsError("ListNamespaces", err)
		}
		for _, ns := range out.Namespaces {
			if aws.ToString(ns.Name) == name {
				return aws.ToString(ns.Id), nil
			}
		}
	}
	if !create {
		return "", nil
	}
	in := &sd.CreatePrivateDnsNamespaceInput{Name: aws.String(name), CreatorRequestId: aws.String("purser-" + cl.cluster + "-" + name)}
	if stack.VPC != nil {
		in.Vpc = aws.String(stack.VPC.ID)
	}
	out, err := cl.sd.CreatePrivateDnsNamespace(ctx, in)
	if err != nil {
		return "", awsError("CreatePrivateDnsNamespace", err)
	}
	// The namespace exists once its operation succeeds (the seed gave it 60 s).
	deadline := time.Now().Add(60 * time.Second)
	for {
		op, err := cl.sd.GetOperation(ctx, &sd.GetOperationInput{OperationId: out.OperationId})
		if err != nil {
			return "", awsError("GetOperation", err)
		}
		switch op.Operation.Status {
		case sdtypes.OperationStatusSuccess:
			return op.Operation.Targets[string(sdtypes.OperationTargetTypeNamespace)], nil
		case sdtypes.OperationStatusFail:
			return "", fmt.Errorf("creating the namespace %s failed: %s", name, aws.ToString(op.Operation.ErrorMessage))
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("the namespace %s was not created within 60 s", name)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// discoveryService returns the Cloud Map service named name in namespace
// ns, or nil.
func (cl *clients) discoveryService(ctx context.Context, ns, name string) (*sdtypes.ServiceSummary, error) {
	p := sd.NewListServicesPaginator(cl.sd, &sd.ListServicesInput{Filters: []sdtypes.ServiceFilter{{Name: sdtypes.ServiceFilterNameNamespaceId, Values: []string{ns}}}})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, awsError("ListServices", err)
		}
		for i, s := range out.Services {
			if aws.ToString(s.Name) == name {
				return &out.Services[i], nil
			}
		}
	}
	return nil, nil
}

// ensureDiscovery registers the service in the namespace as the seed did
// (A records, TTL 300, a custom health check) and returns its registry.
func (cl *clients) ensureDiscovery(ctx context.Context, stack *purser.Stackfile, svc *purser.StackService) ([]types.ServiceRegistry, error) {
	d := svc.DNSDiscovery
	if d == nil {
		return nil, nil
	}
	ns, err := cl.namespace(ctx, stack, true)
	if err != nil {
		return nil, &purser.RolloutError{Service: svc.Name, Reason: err.Error()}
	}
	s, err := cl.discoveryService(ctx, ns, d.Name)
	if err != nil {
		return nil, err
	}
	arn := ""
	if s != nil {
		arn = aws.ToString(s.Arn)
	} else {
		out, err := cl.sd.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String(d.Name), NamespaceId: aws.String(ns),
			DnsConfig: &sdtypes.DnsConfig{RoutingPolicy: sdtypes.RoutingPolicyWeighted,
				DnsRecords: []sdtypes.DnsRecord{{Type: sdtypes.RecordTypeA, TTL: aws.Int64(300)}}},
			// Cloud Map ignores a custom health check's failure threshold
			// now (always 1), as the seed's default was: none is sent.
			HealthCheckCustomConfig: &sdtypes.HealthCheckCustomConfig{}})
		if err != nil {
			return nil, refused(svc.Name, "servicediscovery CreateService", err)
		}
		arn = aws.ToString(out.Service.Arn)
	}
	return []types.ServiceRegistry{{RegistryArn: aws.String(arn)}}, nil
}

// dropDiscovery deletes the Cloud Map service name of the stack's
// namespace (the namespace stays: other services may use it).
func (cl *clients) dropDiscovery(ctx context.Context, stack *purser.Stackfile, name string) error {
	if stack.ServiceDiscovery == nil {
		return nil
	}
	ns, err := cl.namespace(ctx, stack, false)
	if err != nil || ns == "" {
		return err
	}
	s, err := cl.discoveryService(ctx, ns, name)
	if err != nil || s == nil {
		return err
	}
	if _, err := cl.sd.DeleteService(ctx, &sd.DeleteServiceInput{Id: s.Id}); err != nil && !notFound(err) {
		return awsError("servicediscovery DeleteService", err)
	}
	return nil
}
