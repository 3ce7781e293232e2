package ecs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/purserhq/purser"
)

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
		if why := pullFailure(cl.stoppedTasks(ctx, name), tdArn); why != "" {
			return &purser.RolloutError{Service: name, Reason: why + cl.tasksReport(ctx, s)}
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

// stoppedTasks returns the service's last stopped tasks (ECS keeps them
// about an hour); none when ECS does not answer.
func (cl *clients) stoppedTasks(ctx context.Context, service string) []types.Task {
	out, err := cl.ecs.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(cl.cluster), ServiceName: aws.String(service),
		DesiredStatus: types.DesiredStatusStopped, MaxResults: aws.Int32(10)})
	if err != nil || len(out.TaskArns) == 0 {
		return nil
	}
	d, err := cl.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cl.cluster), Tasks: out.TaskArns})
	if err != nil {
		return nil
	}
	return d.Tasks
}

// pullFailure says why a task of task definition tdArn stopped when no
// retry can succeed: its image is not in its registry, or the registry
// refuses it (a CannotPullContainerError saying not found, manifest
// unknown, or access denied). A pull that failed for another reason (a
// timeout, a rate limit) is retried by ECS, and waited for.
func pullFailure(tasks []types.Task, tdArn string) string {
	for _, task := range tasks {
		r := aws.ToString(task.StoppedReason)
		if aws.ToString(task.TaskDefinitionArn) != tdArn || !strings.Contains(r, "CannotPullContainerError") {
			continue
		}
		l := strings.ToLower(r)
		for _, final := range []string{"not found", "manifest unknown", "does not exist", "access denied", "accessdenied", "unauthorized"} {
			if strings.Contains(l, final) {
				return "a task could not pull its image: " + r
			}
		}
	}
	return ""
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
