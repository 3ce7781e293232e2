package ecs

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	sdtypes "github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"github.com/purserhq/purser"
)

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
