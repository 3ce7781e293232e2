package ecs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/purserhq/purser"
)

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
