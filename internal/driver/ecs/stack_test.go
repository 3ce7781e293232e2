package ecs

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/awstest"
	"github.com/purserhq/purser/internal/stackfile"
)

// env is one moto_server with an ECS cluster, the default VPC's subnets
// and security group, and a hosted zone.
type env struct {
	t       *testing.T
	cluster *purser.Cluster
	target  *StackTarget
	cl      *clients
	vpc     string
	subnets []string
	group   string
	zone    string
	cert    string
}

// newEnv starts moto. moto runs no tasks: a new service counts running
// tasks (MOTO_ECS_SERVICE_RUNNING), an updated one its desired count.
func newEnv(t *testing.T, running string) *env {
	t.Setenv("MOTO_ECS_SERVICE_RUNNING", running)
	endpoint := awstest.Start(t)
	e := &env{t: t, cluster: &purser.Cluster{Name: "staging", Region: awstest.Region, ECSCluster: "staging",
		Endpoint: endpoint, AccessKeyID: awstest.AccessKeyID, SecretAccessKey: awstest.SecretAccessKey}}
	e.target = NewStackTarget(nil)
	e.target.PollInterval = 50 * time.Millisecond
	cl, err := e.target.clients(e.cluster)
	if err != nil {
		t.Fatal(err)
	}
	e.cl = cl
	ctx := context.Background()
	if _, err := cl.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("staging")}); err != nil {
		t.Fatal(err)
	}
	// The default VPC moto makes, read with EC2's query API.
	subnets := ec2(t, endpoint, "DescribeSubnets")
	e.vpc = regexp.MustCompile(`<vpcId>(vpc-[0-9a-f]+)</vpcId>`).FindStringSubmatch(subnets)[1]
	for _, m := range regexp.MustCompile(`<subnetId>(subnet-[0-9a-f]+)</subnetId>`).FindAllStringSubmatch(subnets, 2) {
		e.subnets = append(e.subnets, m[1])
	}
	e.group = regexp.MustCompile(`<groupId>(sg-[0-9a-f]+)</groupId>`).FindStringSubmatch(ec2(t, endpoint, "DescribeSecurityGroups"))[1]
	hz, err := cl.r53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("example.com"), CallerReference: aws.String("purser-test")})
	if err != nil {
		t.Fatal(err)
	}
	// moto's ELBv2 checks a listener's certificate exists in ACM.
	arn := regexp.MustCompile(`"CertificateArn":\s*"([^"]+)"`).FindStringSubmatch(call(t, endpoint, "acm", "application/x-amz-json-1.1",
		"CertificateManager.RequestCertificate", `{"DomainName":"staging.example.com"}`))
	if arn == nil {
		t.Fatal("RequestCertificate answered no ARN")
	}
	e.cert = arn[1]
	e.zone = strings.TrimPrefix(aws.ToString(hz.HostedZone.Id), "/hostedzone/")
	return e
}

// ec2 calls an EC2 query action on moto and returns its XML (the EC2
// and ACM clients are not dependencies of Purser).
func ec2(t *testing.T, endpoint, action string, params ...string) string {
	form := url.Values{"Action": {action}, "Version": {"2016-11-15"}}
	for i := 0; i+1 < len(params); i += 2 {
		form.Set(params[i], params[i+1])
	}
	return call(t, endpoint, "ec2", "application/x-www-form-urlencoded", "", form.Encode())
}

// call posts body to moto as service's API (moto checks no signature).
func call(t *testing.T, endpoint, service, contentType, target, body string) string {
	action := service + " " + target
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+awstest.AccessKeyID+"/20260101/"+awstest.Region+"/"+service+"/aws4_request, SignedHeaders=host, Signature=x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", action, resp.StatusCode, b)
	}
	return string(b)
}

// seed parses the seed's stackfile with the emulator's VPC and zone in
// place of its placeholders, plus a secret reference, and normalises it.
func (e *env) seed(edit func(*purser.Stackfile)) *purser.Stackfile {
	b, err := os.ReadFile("../../stackfile/testdata/seed.yaml")
	if err != nil {
		e.t.Fatal(err)
	}
	sf, err := stackfile.Parse(b)
	if err != nil {
		e.t.Fatal(err)
	}
	sf.VPC.ID = e.vpc
	sf.VPC.Subnets = purser.PublicPrivate{Public: e.subnets, Private: e.subnets}
	sf.VPC.SecurityGroups = purser.PublicPrivate{Public: []string{e.group}, Private: []string{e.group}}
	sf.Service("routing-service").ELB.DNS.HostedZoneID = e.zone
	sf.Service("routing-service").ELB.Certificates = []string{e.cert}
	us := sf.Service("user-service")
	us.Environment = append(us.Environment, purser.EnvVar{Name: "DB_PASSWORD", Value: "${DB_PASSWORD}"})
	if edit != nil {
		edit(sf)
	}
	return sf.Normalize()
}

// deploy plans desired against the target and applies every step, as the
// reconciler does; it returns the plan.
func (e *env) deploy(desired *purser.Stackfile, secrets map[string]string) purser.Plan {
	e.t.Helper()
	ctx := context.Background()
	plan := purser.PlanStack(desired, e.actual())
	for _, step := range plan.Services {
		if err := e.target.Apply(ctx, e.cluster, step, purser.ApplyInput{Stack: desired, Service: desired.Service(step.Service),
			Secrets: secrets, Healthy: 10 * time.Second}); err != nil {
			e.t.Fatalf("apply %s %s: %v", step.Action, step.Service, err)
		}
	}
	return plan
}

func (e *env) actual() []purser.ActualService {
	e.t.Helper()
	a, err := e.target.Actual(context.Background(), e.cluster)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// td returns the task definition a service runs.
func (e *env) td(service string) *types.TaskDefinition {
	e.t.Helper()
	m, err := e.cl.find(context.Background(), service)
	if err != nil || m == nil {
		e.t.Fatalf("service %s: %v (found %v)", service, err, m != nil)
	}
	return m.td
}

func (e *env) service(name string) types.Service {
	e.t.Helper()
	m, err := e.cl.find(context.Background(), name)
	if err != nil || m == nil {
		e.t.Fatalf("service %s: %v", name, err)
	}
	return m.svc
}

func TestSeedStackOnECS(t *testing.T) {
	e := newEnv(t, "1")
	ctx := context.Background()
	desired := e.seed(nil)
	plan := e.deploy(desired, map[string]string{"DB_PASSWORD": "one"})
	if plan.Count(purser.PlanCreate) != 3 {
		t.Fatalf("first plan: %s", plan.Summary())
	}

	// Task definitions as the seed registered them.
	rs := e.td("routing-service")
	c := rs.ContainerDefinitions[0]
	if aws.ToString(rs.Family) != "staging-routing-service" || aws.ToString(c.Name) != "routing-service" || aws.ToInt32(c.Memory) != 930 ||
		rs.NetworkMode != types.NetworkModeHost || len(c.PortMappings) != 1 || aws.ToInt32(c.PortMappings[0].ContainerPort) != 8080 ||
		c.LogConfiguration == nil || c.LogConfiguration.LogDriver != "awslogs" || c.LogConfiguration.Options["awslogs-group"] != "/ecs/staging" {
		t.Errorf("routing-service task definition: family %s, network %s, container %+v", aws.ToString(rs.Family), rs.NetworkMode, c)
	}
	us := e.td("user-service")
	if us.NetworkMode != types.NetworkModeAwsvpc || envValue(us, "DB_PASSWORD") != "one" || envValue(us, "SERVER_PORT") != "80" {
		t.Errorf("user-service task definition: network %s, env %+v", us.NetworkMode, us.ContainerDefinitions[0].Environment)
	}
	svc := e.service("routing-service")
	// (moto keeps no deployment configuration: TestNames checks the 200 % / 50 % sent.)
	if svc.DesiredCount != 1 || svc.SchedulingStrategy != types.SchedulingStrategyReplica ||
		len(svc.LoadBalancers) != 1 || aws.ToInt32(svc.LoadBalancers[0].ContainerPort) != 8080 {
		t.Errorf("routing-service: %+v", svc)
	}
	if u := e.service("user-service"); len(u.ServiceRegistries) != 1 {
		t.Errorf("user-service registries %+v", u.ServiceRegistries)
	}
	// Its load balancer, HTTPS listener with the certificate, and record.
	lb, err := e.cl.loadBalancer(ctx, "staging-routing-service-lb")
	if err != nil || lb == nil {
		t.Fatalf("load balancer: %v", err)
	}
	ls, err := e.cl.elb.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancerArn})
	if err != nil || len(ls.Listeners) != 1 || aws.ToInt32(ls.Listeners[0].Port) != 443 || ls.Listeners[0].Protocol != "HTTPS" ||
		len(ls.Listeners[0].Certificates) != 1 {
		t.Errorf("listeners %+v, %v", ls, err)
	}
	if !e.hasRecord("staging.example.com.") {
		t.Error("no alias record staging.example.com")
	}
	if ns, _ := e.cl.namespace(ctx, desired, false); ns == "" {
		t.Error("no example.sd namespace")
	} else if s, _ := e.cl.discoveryService(ctx, ns, "user.staging"); s == nil {
		t.Error("no user.staging discovery service")
	}

	// No phantom drift, even though a secret's value changes.
	if p := purser.PlanStack(desired, e.actual()); !p.NoOp() {
		t.Fatalf("drift right after the deploy: %s", p.Summary())
	}
	// A scale, and a forced update, with a new secret value: no new revision.
	scaled := e.seed(func(sf *purser.Stackfile) { two := 2; sf.Service("user-service").DesiredCount = &two })
	p := e.deploy(scaled, map[string]string{"DB_PASSWORD": "two"})
	if p.Count(purser.PlanUpdate) != 1 || p.Services[1].Rollout {
		t.Errorf("scale plan: %s", p.Summary())
	}
	if err := e.target.Apply(ctx, e.cluster, purser.ServicePlan{Service: "user-service", Action: purser.PlanUpdate, Rollout: true},
		purser.ApplyInput{Stack: scaled, Service: scaled.Service("user-service"), Secrets: map[string]string{"DB_PASSWORD": "three"}, Healthy: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if after := e.td("user-service"); after.Revision != us.Revision {
		t.Errorf("a new secret value registered revision %d (was %d)", after.Revision, us.Revision)
	}
	if got := e.service("user-service").DesiredCount; got != 2 {
		t.Errorf("user-service desired count %d, want 2", got)
	}

	// Memory, ports and logging changes are detected and rolled out.
	changed := e.seed(func(sf *purser.Stackfile) {
		two := 2
		sf.Service("user-service").DesiredCount = &two
		sf.Service("email-worker").Memory = 512
		rsv := sf.Service("routing-service")
		rsv.Ports = []string{"8080:8080", "9090:9090"}
		rsv.Logging = &purser.Logging{Options: map[string]string{"awslogs-group": "/ecs/routing"}}
	})
	p = purser.PlanStack(changed, e.actual())
	if p.Count(purser.PlanUpdate) != 2 {
		t.Fatalf("change plan: %s", p.Summary())
	}
	e.deploy(changed, map[string]string{"DB_PASSWORD": "three"})
	if ew := e.td("email-worker"); ew.Revision != 2 || aws.ToInt32(ew.ContainerDefinitions[0].Memory) != 512 {
		t.Errorf("email-worker revision %d memory %d", ew.Revision, aws.ToInt32(ew.ContainerDefinitions[0].Memory))
	}
	rc := e.td("routing-service").ContainerDefinitions[0]
	if len(rc.PortMappings) != 2 || rc.LogConfiguration.Options["awslogs-group"] != "/ecs/routing" {
		t.Errorf("routing-service container %+v", rc)
	}
	if p := purser.PlanStack(changed, e.actual()); !p.NoOp() {
		t.Fatalf("drift after the change: %s", p.Summary())
	}

	// A change behind Purser's back shows as drift.
	if _, err := e.cl.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("staging"), Service: aws.String("email-worker"), DesiredCount: aws.Int32(5)}); err != nil {
		t.Fatal(err)
	}
	p = purser.PlanStack(changed, e.actual())
	if p.Count(purser.PlanUpdate) != 1 || p.Services[2].Service != "email-worker" || p.Services[2].Changes[0].Field != "desired_count" || p.Services[2].Changes[0].Old != "5" {
		t.Errorf("drift plan: %s", p.Summary())
	}
	// So does an image deployed by hand (a copy of Purser's task
	// definition, labels and all, with another image).
	hand := e.td("routing-service")
	hc := hand.ContainerDefinitions[0]
	hc.Image = aws.String("xxx.dkr.ecr.us-east-1.amazonaws.com/routing-service:hotfix")
	reg, err := e.cl.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: hand.Family, NetworkMode: hand.NetworkMode,
		ContainerDefinitions: []types.ContainerDefinition{hc}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.cl.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("staging"), Service: aws.String("routing-service"),
		TaskDefinition: reg.TaskDefinition.TaskDefinitionArn}); err != nil {
		t.Fatal(err)
	}
	p = purser.PlanStack(changed, e.actual())
	if p.Services[0].Action != purser.PlanUpdate || p.Services[0].Changes[0].Field != "image" || !strings.HasSuffix(p.Services[0].Changes[0].Old, ":hotfix") {
		t.Errorf("image drift plan: %s", p.Summary())
	}
	// A deploy corrects both: a new revision with the stackfile's image.
	e.deploy(changed, nil)
	if c := e.td("routing-service").ContainerDefinitions[0]; strings.HasSuffix(aws.ToString(c.Image), ":hotfix") {
		t.Errorf("image after the deploy: %s", aws.ToString(c.Image))
	}
	if got := e.service("email-worker").DesiredCount; got != 1 {
		t.Errorf("email-worker desired count %d after the deploy, want 1", got)
	}

	// Load balancer changes: a new container port is a new target group
	// (the old one goes), a new public port moves the listener, a new
	// record name replaces the record.
	moved := e.seed(func(sf *purser.Stackfile) {
		two := 2
		sf.Service("user-service").DesiredCount = &two
		sf.Service("email-worker").Memory = 512
		rsv := sf.Service("routing-service")
		rsv.Ports = []string{"8080:8080", "9090:9090"}
		rsv.Logging = &purser.Logging{Options: map[string]string{"awslogs-group": "/ecs/routing"}}
		rsv.ELB.Ports = purser.ELBPorts{Public: 8443, Container: 9090}
		rsv.ELB.Healthcheck.Port = 9090
		rsv.ELB.DNS.RecordName = "www.example.com"
	})
	p = e.deploy(moved, nil)
	if p.Count(purser.PlanUpdate) != 1 || p.Services[0].Changes[0].Field != "elb" {
		t.Errorf("elb plan: %s", p.Summary())
	}
	tgs, err := e.cl.elb.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{})
	if err != nil || len(tgs.TargetGroups) != 1 || aws.ToString(tgs.TargetGroups[0].TargetGroupName) != "staging-routing-service-9090" ||
		aws.ToString(tgs.TargetGroups[0].HealthCheckPort) != "9090" {
		t.Errorf("target groups after the port change: %+v (%v)", tgs, err)
	}
	ls, err = e.cl.elb.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancerArn})
	if err != nil || len(ls.Listeners) != 1 || aws.ToInt32(ls.Listeners[0].Port) != 8443 {
		t.Errorf("listeners after the port change: %+v (%v)", ls, err)
	}
	if e.hasRecord("staging.example.com.") || !e.hasRecord("www.example.com.") {
		t.Error("the record was not moved to www.example.com")
	}
	if lbs := e.service("routing-service").LoadBalancers; len(lbs) != 1 || aws.ToInt32(lbs[0].ContainerPort) != 9090 {
		t.Errorf("service load balancers %+v", lbs)
	}
	if p := purser.PlanStack(moved, e.actual()); !p.NoOp() {
		t.Fatalf("drift after the elb change: %s", p.Summary())
	}

	// Removing services deletes them with everything made for them.
	gone := e.seed(func(sf *purser.Stackfile) { sf.Services = sf.Services[2:] })
	p = e.deploy(gone, map[string]string{"DB_PASSWORD": "three"})
	if p.Count(purser.PlanDelete) != 2 {
		t.Errorf("delete plan: %s", p.Summary())
	}
	for _, name := range []string{"routing-service", "user-service"} {
		if m, err := e.cl.find(ctx, name); err != nil || m != nil {
			t.Errorf("service %s still there (%v)", name, err)
		}
	}
	if lb, err := e.cl.loadBalancer(ctx, "staging-routing-service-lb"); err != nil || lb != nil {
		t.Errorf("load balancer still there (%v)", err)
	}
	if tgs, err := e.cl.elb.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{}); err != nil || len(tgs.TargetGroups) != 0 {
		t.Errorf("target groups left: %+v (%v)", tgs, err)
	}
	if e.hasRecord("www.example.com.") {
		t.Error("alias record left")
	}
	if ns, _ := e.cl.namespace(ctx, desired, false); ns != "" {
		if s, _ := e.cl.discoveryService(ctx, ns, "user.staging"); s != nil {
			t.Error("discovery service left")
		}
	}
	tds, err := e.cl.ecs.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("staging-routing-service"), Status: types.TaskDefinitionStatusActive})
	if err != nil || len(tds.TaskDefinitionArns) != 0 {
		t.Errorf("active task definitions left: %v (%v)", tds.TaskDefinitionArns, err)
	}
	if a := e.actual(); len(a) != 1 || a[0].Spec.Name != "email-worker" {
		t.Errorf("actual after the deletes: %+v", a)
	}
}

// every_node runs one task on each container instance: a DAEMON service.
func TestEveryNodeIsADaemon(t *testing.T) {
	e := newEnv(t, "0") // a moto cluster has no container instances: a daemon runs 0 of 0
	desired := e.seed(func(sf *purser.Stackfile) {
		sf.Services = sf.Services[2:]
		sf.Services[0].PlacementStrategy = purser.PlacementEveryNode
	})
	e.deploy(desired, nil)
	if s := e.service("email-worker"); s.SchedulingStrategy != types.SchedulingStrategyDaemon {
		t.Errorf("scheduling strategy %s, want DAEMON", s.SchedulingStrategy)
	}
	if p := purser.PlanStack(desired, e.actual()); !p.NoOp() {
		t.Errorf("drift: %s", p.Summary())
	}
	// ECS cannot change a scheduling strategy: the service is made again.
	zero := 0
	replica := e.seed(func(sf *purser.Stackfile) {
		sf.Services = sf.Services[2:]
		sf.Services[0].DesiredCount = &zero
	})
	if p := e.deploy(replica, nil); p.Count(purser.PlanUpdate) != 1 {
		t.Errorf("plan: %s", p.Summary())
	}
	if s := e.service("email-worker"); s.SchedulingStrategy != types.SchedulingStrategyReplica || s.DesiredCount != 0 {
		t.Errorf("scheduling strategy %s, desired %d; want REPLICA, 0", s.SchedulingStrategy, s.DesiredCount)
	}
	if p := purser.PlanStack(replica, e.actual()); !p.NoOp() {
		t.Errorf("drift: %s", p.Summary())
	}
}

// A one-off task runs once per spec, as the seed's RunTask did; ECS not
// starting it fails the rollout.
func TestOneOffTask(t *testing.T) {
	e := newEnv(t, "1")
	ctx := context.Background()
	// moto answers RunTask with a 500 when a cluster has no container
	// instance (ECS would list a failure): one instance, of moto's size.
	run := ec2(t, e.cluster.Endpoint, "RunInstances", "ImageId", "ami-12c6146b", "MinCount", "1", "MaxCount", "1", "InstanceType", "t3.medium")
	id := regexp.MustCompile(`<instanceId>(i-[0-9a-f]+)</instanceId>`).FindStringSubmatch(run)
	if id == nil {
		t.Fatalf("RunInstances: %s", run)
	}
	if _, err := e.cl.ecs.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("staging"),
		InstanceIdentityDocument: aws.String(`{"instanceId": "` + id[1] + `", "region": "us-east-1"}`)}); err != nil {
		t.Fatal(err)
	}
	huge := e.seed(func(sf *purser.Stackfile) {
		sf.Services = sf.Services[2:]
		sf.Services[0].Name, sf.Services[0].Type, sf.Services[0].Memory = "migrate", "task", 1<<20
	})
	step := purser.ServicePlan{Service: "migrate", Action: purser.PlanCreate, Rollout: true}
	err := e.target.Apply(ctx, e.cluster, step, purser.ApplyInput{Stack: huge, Service: &huge.Services[0], Healthy: time.Second})
	var re *purser.RolloutError
	if !errors.As(err, &re) || re.Service != "migrate" || !strings.Contains(re.Reason, "ECS started no task") {
		t.Fatalf("a task no instance can hold: %v", err)
	}
	if a := e.actual(); len(a) != 0 {
		t.Errorf("a task that never started is listed: %+v", a)
	}
	// (moto's answer to a RunTask that starts a task does not decode: it
	// writes a number where ECS writes a string, so the run itself is not
	// shown here.) The failed run left no active task definition, so the
	// next deploy tries again.
	if tds, err := e.cl.ecs.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("staging-migrate"),
		Status: types.TaskDefinitionStatusActive}); err != nil || len(tds.TaskDefinitionArns) != 0 {
		t.Errorf("task definitions left: %v (%v)", tds, err)
	}
}

// A service whose tasks never all run fails its rollout in time, with a
// reason naming it and its counts.
func TestRolloutFailsWhenTasksDoNotRun(t *testing.T) {
	e := newEnv(t, "1")
	three := 3
	desired := e.seed(func(sf *purser.Stackfile) {
		sf.Services = sf.Services[2:]
		sf.Services[0].DesiredCount = &three
	})
	start := time.Now()
	err := e.target.Apply(context.Background(), e.cluster, purser.ServicePlan{Service: "email-worker", Action: purser.PlanCreate, Rollout: true},
		purser.ApplyInput{Stack: desired, Service: &desired.Services[0], Healthy: time.Second})
	var re *purser.RolloutError
	if !errors.As(err, &re) || re.Service != "email-worker" || !strings.Contains(re.Reason, "1 of 3 tasks running") {
		t.Fatalf("err %v, want a rollout error for email-worker, 1 of 3 running", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("failed after %s, want about the 1 s deadline", d)
	}
	// A role cannot be assumed without Purser's own credentials.
	_, err = e.target.Actual(context.Background(), &purser.Cluster{Name: "r", RoleARN: "arn:aws:iam::123456789012:role/purser"})
	if purser.ErrorCode(err) != purser.ENOTIMPLEMENTED {
		t.Errorf("role: %v", err)
	}
}

func (e *env) hasRecord(name string) bool {
	out, err := e.cl.r53.ListResourceRecordSets(context.Background(), &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(e.zone)})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range out.ResourceRecordSets {
		if aws.ToString(r.Name) == name && r.Type == "A" {
			return true
		}
	}
	return false
}

func envValue(td *types.TaskDefinition, name string) string {
	for _, kv := range td.ContainerDefinitions[0].Environment {
		if aws.ToString(kv.Name) == name {
			return aws.ToString(kv.Value)
		}
	}
	return ""
}
