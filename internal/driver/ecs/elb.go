package ecs

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/purserhq/purser"
)

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
