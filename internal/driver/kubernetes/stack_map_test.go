package kubernetes

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kfield "k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/purserhq/purser"
)

// mapped normalises a one-service stackfile and maps its service.
func mapped(t *testing.T, sf *purser.Stackfile, secrets map[string]string) map[string]*unstructured.Unstructured {
	t.Helper()
	n := sf.Normalize()
	objs, err := Objects("staging", "stacks", n, &n.Services[0], secrets)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		key := o.GetKind() + "/" + o.GetName()
		if out[key] != nil {
			t.Fatalf("%s twice", key)
		}
		if o.GetNamespace() != "stacks" {
			t.Errorf("%s in namespace %q", key, o.GetNamespace())
		}
		want := map[string]string{LabelManagedBy: "purser", LabelStack: "staging", LabelService: n.Services[0].Name}
		if !reflect.DeepEqual(o.GetLabels(), want) {
			t.Errorf("%s labels %v", key, o.GetLabels())
		}
		out[key] = o
	}
	return out
}

func one(sv purser.StackService) *purser.Stackfile {
	return &purser.Stackfile{Defaults: purser.StackDefaults{Memory: 930}, Services: []purser.StackService{sv}}
}

func count(n int) *int { return &n }

// field reads a path of an object, failing when it is absent.
func field(t *testing.T, o *unstructured.Unstructured, path ...string) any {
	t.Helper()
	if o == nil {
		t.Fatalf("no object for %v", path)
	}
	v, ok, err := unstructured.NestedFieldNoCopy(o.Object, path...)
	if err != nil || !ok {
		t.Fatalf("%s/%s has no %s", o.GetKind(), o.GetName(), strings.Join(path, "."))
	}
	return v
}

func container(t *testing.T, o *unstructured.Unstructured) map[string]any {
	t.Helper()
	cs := field(t, o, "spec", "template", "spec", "containers").([]any)
	if len(cs) != 1 {
		t.Fatalf("%d containers", len(cs))
	}
	return cs[0].(map[string]any)
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestObjectsMapping tests docs/stacks-kubernetes.md, row by row.
func TestObjectsMapping(t *testing.T) {
	t.Run("ServiceIsADeployment", func(t *testing.T) {
		o := mapped(t, one(purser.StackService{Name: "web", Image: "nginx:1.27", DesiredCount: count(3)}), nil)
		d := o["Deployment/web"]
		if len(o) != 1 || d == nil {
			t.Fatalf("objects %v", keys(o))
		}
		if c := container(t, d); c["image"] != "nginx:1.27" || c["name"] != containerName {
			t.Errorf("container %v", c)
		}
		if r := field(t, d, "spec", "replicas"); r != int64(3) {
			t.Errorf("replicas %v", r)
		}
		sel := asJSON(field(t, d, "spec", "selector", "matchLabels"))
		if sel != `{"purser.dev/service":"web","purser.dev/stack":"staging"}` {
			t.Errorf("selector %s", sel)
		}
		if l := asJSON(field(t, d, "spec", "template", "metadata", "labels")); !strings.Contains(l, `"purser.dev/service":"web"`) {
			t.Errorf("pod labels %s", l)
		}
	})
	t.Run("DesiredCountZero", func(t *testing.T) {
		o := mapped(t, one(purser.StackService{Name: "web", Image: "nginx", DesiredCount: count(0)}), nil)
		if r := field(t, o["Deployment/web"], "spec", "replicas"); r != int64(0) {
			t.Errorf("replicas %v", r)
		}
	})
	t.Run("SpecAnnotation", func(t *testing.T) {
		sf := one(purser.StackService{Name: "web", Image: "nginx", Environment: []purser.EnvVar{ev("K", "${S}")}})
		o := mapped(t, sf, map[string]string{"S": "hunter2"})
		ann := o["Deployment/web"].GetAnnotations()
		var back purser.StackService
		if err := json.Unmarshal([]byte(ann[AnnotationSpec]), &back); err != nil {
			t.Fatal(err)
		}
		n := sf.Normalize()
		if len(purser.ServiceChanges(&back, &n.Services[0])) != 0 || back.Name != "web" {
			t.Errorf("the annotation reads back as %+v", back)
		}
		if strings.Contains(ann[AnnotationSpec], "hunter2") || !strings.Contains(ann[AnnotationSpec], "${S}") {
			t.Errorf("the annotation holds %s", ann[AnnotationSpec])
		}
		if len(ann[AnnotationSpecHash]) != 12 {
			t.Errorf("hash %q", ann[AnnotationSpecHash])
		}
	})
	t.Run("MergedEnvironmentAndSecrets", func(t *testing.T) {
		sf := one(purser.StackService{Name: "web", Image: "nginx", Environment: []purser.EnvVar{ev("SERVER_PORT", "8080"), ev("DB_PASSWORD", "${DB_PASS}")}})
		sf.Defaults.Environment = []purser.EnvVar{ev("SERVER_PORT", "80"), ev("LEVEL", "INFO")}
		o := mapped(t, sf, map[string]string{"DB_PASS": "s3cret", "OTHER": "x"})
		env := asJSON(container(t, o["Deployment/web"])["env"])
		want := `[{"name":"DB_PASSWORD","valueFrom":{"secretKeyRef":{"key":"DB_PASS","name":"web-env"}}},{"name":"LEVEL","value":"INFO"},{"name":"SERVER_PORT","value":"8080"}]`
		if env != want {
			t.Errorf("env\n %s\nwant\n %s", env, want)
		}
		if strings.Contains(asJSON(o["Deployment/web"].Object), "s3cret") {
			t.Error("the resolved value is in the Deployment")
		}
		s := o["Secret/web-env"]
		data := field(t, s, "data").(map[string]any)
		if len(data) != 1 || data["DB_PASS"] != base64.StdEncoding.EncodeToString([]byte("s3cret")) {
			t.Errorf("secret data %v", data)
		}
	})
	t.Run("MissingSecretIsARolloutError", func(t *testing.T) {
		n := one(purser.StackService{Name: "web", Image: "nginx", Environment: []purser.EnvVar{ev("P", "${NOPE}")}}).Normalize()
		_, err := Objects("staging", "stacks", n, &n.Services[0], nil)
		var re *purser.RolloutError
		if !errors.As(err, &re) || re.Service != "web" || !strings.Contains(re.Reason, "${NOPE}") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("MemoryLimit", func(t *testing.T) {
		o := mapped(t, one(purser.StackService{Name: "web", Image: "nginx"}), nil)
		if m := asJSON(container(t, o["Deployment/web"])["resources"]); m != `{"limits":{"memory":"930Mi"}}` {
			t.Errorf("resources %s", m)
		}
		o = mapped(t, one(purser.StackService{Name: "web", Image: "nginx", Memory: 2048}), nil)
		if m := asJSON(container(t, o["Deployment/web"])["resources"]); m != `{"limits":{"memory":"2048Mi"}}` {
			t.Errorf("resources %s", m)
		}
	})
	t.Run("PortsAreContainerPortsAndAService", func(t *testing.T) {
		o := mapped(t, one(purser.StackService{Name: "web", Image: "nginx", Ports: []string{"80:8080", "9090:9090"}}), nil)
		if p := asJSON(container(t, o["Deployment/web"])["ports"]); p != `[{"containerPort":8080,"protocol":"TCP"},{"containerPort":9090,"protocol":"TCP"}]` {
			t.Errorf("container ports %s", p)
		}
		s := o["Service/web"]
		if typ := field(t, s, "spec", "type"); typ != "ClusterIP" {
			t.Errorf("type %v", typ)
		}
		if p := asJSON(field(t, s, "spec", "ports")); p != `[{"name":"p80","port":80,"protocol":"TCP","targetPort":8080},{"name":"p9090","port":9090,"protocol":"TCP","targetPort":9090}]` {
			t.Errorf("service ports %s", p)
		}
		if sel := asJSON(field(t, s, "spec", "selector")); sel != `{"purser.dev/service":"web","purser.dev/stack":"staging"}` {
			t.Errorf("selector %s", sel)
		}
	})
	t.Run("ContainerHealthcheckIsProbes", func(t *testing.T) {
		o := mapped(t, one(purser.StackService{Name: "web", Image: "nginx", Healthcheck: &purser.ContainerHealthcheck{
			Command: []string{"CMD-SHELL", "curl -f localhost/ || exit 1"}, StartPeriodSeconds: 15}}), nil)
		c := container(t, o["Deployment/web"])
		want := `{"exec":{"command":["/bin/sh","-c","curl -f localhost/ || exit 1"]},"failureThreshold":3,"initialDelaySeconds":15,"periodSeconds":30,"timeoutSeconds":5}`
		if p := asJSON(c["livenessProbe"]); p != want {
			t.Errorf("liveness %s", p)
		}
		if p := asJSON(c["readinessProbe"]); p != want {
			t.Errorf("readiness %s", p)
		}
		o = mapped(t, one(purser.StackService{Name: "web", Image: "nginx", Healthcheck: &purser.ContainerHealthcheck{Command: []string{"CMD", "/bin/check", "-q"}}}), nil)
		if p := asJSON(container(t, o["Deployment/web"])["livenessProbe"].(map[string]any)["exec"]); p != `{"command":["/bin/check","-q"]}` {
			t.Errorf("CMD form %s", p)
		}
	})
	t.Run("Privileged", func(t *testing.T) {
		o := mapped(t, one(purser.StackService{Name: "web", Image: "nginx", Privileged: true}), nil)
		if p := asJSON(container(t, o["Deployment/web"])["securityContext"]); p != `{"privileged":true}` {
			t.Errorf("securityContext %s", p)
		}
		o = mapped(t, one(purser.StackService{Name: "web", Image: "nginx"}), nil)
		if _, ok := container(t, o["Deployment/web"])["securityContext"]; ok {
			t.Error("a securityContext on an unprivileged service")
		}
	})
	t.Run("VolumesAreHostPaths", func(t *testing.T) {
		o := mapped(t, one(purser.StackService{Name: "web", Image: "nginx", Volumes: []string{"docker:/var/run/docker.sock:/var/run/docker.sock", "Data_1:/srv/data:/data"}}), nil)
		d := o["Deployment/web"]
		if v := asJSON(field(t, d, "spec", "template", "spec", "volumes")); v != `[{"hostPath":{"path":"/var/run/docker.sock"},"name":"docker"},{"hostPath":{"path":"/srv/data"},"name":"data-1"}]` {
			t.Errorf("volumes %s", v)
		}
		if m := asJSON(container(t, d)["volumeMounts"]); m != `[{"mountPath":"/var/run/docker.sock","name":"docker"},{"mountPath":"/data","name":"data-1"}]` {
			t.Errorf("mounts %s", m)
		}
	})
	t.Run("DeploymentConfigurationIsTheStrategy", func(t *testing.T) {
		o := mapped(t, one(purser.StackService{Name: "web", Image: "nginx"}), nil)
		if s := asJSON(field(t, o["Deployment/web"], "spec", "strategy")); s != `{"rollingUpdate":{"maxSurge":"100%","maxUnavailable":"50%"},"type":"RollingUpdate"}` {
			t.Errorf("strategy %s", s)
		}
		o = mapped(t, one(purser.StackService{Name: "web", Image: "nginx", DeploymentConfiguration: &purser.DeploymentConfiguration{MaximumPercent: 100, MinimumHealthyPercent: 100}}), nil)
		if s := asJSON(field(t, o["Deployment/web"], "spec", "strategy", "rollingUpdate")); s != `{"maxSurge":1,"maxUnavailable":"0%"}` {
			t.Errorf("strategy 100/100 %s", s)
		}
	})
	t.Run("EveryNodeIsADaemonSet", func(t *testing.T) {
		o := mapped(t, one(purser.StackService{Name: "agent", Image: "datadog/agent", PlacementStrategy: purser.PlacementEveryNode, Ports: []string{"8125:8125"}}), nil)
		ds := o["DaemonSet/agent"]
		if ds == nil || o["Deployment/agent"] != nil || o["Service/agent"] == nil {
			t.Fatalf("objects %v", keys(o))
		}
		if _, ok, _ := unstructured.NestedFieldNoCopy(ds.Object, "spec", "replicas"); ok {
			t.Error("a DaemonSet with replicas")
		}
		if c := container(t, ds); c["image"] != "datadog/agent" {
			t.Errorf("image %v", c["image"])
		}
	})
	t.Run("TaskIsAJob", func(t *testing.T) {
		o := mapped(t, one(purser.StackService{Name: "migrate", Image: "app:v2", Type: "task", DesiredCount: count(2), Ports: []string{"80:80"}}), nil)
		j := o["Job/migrate"]
		if j == nil || len(o) != 1 {
			t.Fatalf("objects %v", keys(o))
		}
		if c, p := field(t, j, "spec", "completions"), field(t, j, "spec", "parallelism"); c != int64(2) || p != int64(2) {
			t.Errorf("completions %v parallelism %v", c, p)
		}
		if r := field(t, j, "spec", "template", "spec", "restartPolicy"); r != "Never" {
			t.Errorf("restartPolicy %v", r)
		}
		if _, ok, _ := unstructured.NestedFieldNoCopy(j.Object, "spec", "selector"); ok {
			t.Error("a Job with a selector: Kubernetes makes its own")
		}
	})
	t.Run("PublicELBIsALoadBalancer", func(t *testing.T) {
		o := mapped(t, one(purser.StackService{Name: "routing", Image: "r", Ports: []string{"8080:8080"}, ELB: &purser.ELB{
			Type: "public", Protocol: "HTTPS", Ports: purser.ELBPorts{Public: 443, Container: 8080},
			Certificates: []string{"arn:aws:acm:us-east-1:1:certificate/x"},
			DNS:          &purser.ELBDNS{HostedZoneID: "Z1", RecordName: "staging.example.com"},
			Healthcheck:  &purser.ELBHealthcheck{Path: "/health"}}}), nil)
		lb := o["Service/routing-lb"]
		if typ := field(t, lb, "spec", "type"); typ != "LoadBalancer" {
			t.Fatalf("type %v", typ)
		}
		if p := asJSON(field(t, lb, "spec", "ports")); p != `[{"name":"lb","port":443,"protocol":"TCP","targetPort":8080}]` {
			t.Errorf("ports %s", p)
		}
		want := map[string]string{annotationAWSScheme: "internet-facing", annotationAWSSSLCert: "arn:aws:acm:us-east-1:1:certificate/x",
			annotationAWSSSLPorts: "443", annotationAWSBackend: "http", annotationExternalDNS: "staging.example.com"}
		if !reflect.DeepEqual(lb.GetAnnotations(), want) {
			t.Errorf("annotations %v", lb.GetAnnotations())
		}
		if o["Service/routing"] == nil {
			t.Error("no Service for the ports")
		}
	})
	t.Run("PrivateELB", func(t *testing.T) {
		o := mapped(t, one(purser.StackService{Name: "api", Image: "a", ELB: &purser.ELB{Type: "private", Ports: purser.ELBPorts{Public: 80, Container: 3000}}}), nil)
		lb := o["Service/api-lb"]
		want := map[string]string{annotationAWSScheme: "internal", annotationAWSInternal: "true", annotationGKEType: "Internal", annotationAzureIntern: "true"}
		if !reflect.DeepEqual(lb.GetAnnotations(), want) {
			t.Errorf("annotations %v", lb.GetAnnotations())
		}
		// The container port of the elb is declared even without ports.
		if p := asJSON(container(t, o["Deployment/api"])["ports"]); p != `[{"containerPort":3000,"protocol":"TCP"}]` {
			t.Errorf("container ports %s", p)
		}
	})
	t.Run("ELBHealthcheckIsTheReadinessProbe", func(t *testing.T) {
		o := mapped(t, one(purser.StackService{Name: "api", Image: "a",
			Healthcheck: &purser.ContainerHealthcheck{Command: []string{"CMD", "true"}},
			ELB: &purser.ELB{Type: "public", Ports: purser.ELBPorts{Public: 80, Container: 3000},
				Healthcheck: &purser.ELBHealthcheck{Path: "/health", Port: 3001, IntervalSeconds: 10}}}), nil)
		c := container(t, o["Deployment/api"])
		want := `{"failureThreshold":10,"httpGet":{"path":"/health","port":3001,"scheme":"HTTP"},"periodSeconds":10,"successThreshold":2,"timeoutSeconds":5}`
		if p := asJSON(c["readinessProbe"]); p != want {
			t.Errorf("readiness %s", p)
		}
		if p := asJSON(c["livenessProbe"]); !strings.Contains(p, `"exec"`) {
			t.Errorf("liveness %s", p)
		}
	})
	t.Run("DNSDiscoveryIsAHeadlessService", func(t *testing.T) {
		sf := one(purser.StackService{Name: "user-service", Image: "u", Ports: []string{"80:80"}, DNSDiscovery: &purser.DNSDiscovery{Name: "user.staging"}})
		sf.ServiceDiscovery = &purser.ServiceDiscovery{Namespace: "example.sd"}
		o := mapped(t, sf, nil)
		s := o["Service/user"]
		if ip := field(t, s, "spec", "clusterIP"); ip != "None" {
			t.Errorf("clusterIP %v", ip)
		}
		if sel := asJSON(field(t, s, "spec", "selector")); !strings.Contains(sel, `"purser.dev/service":"user-service"`) {
			t.Errorf("selector %s", sel)
		}
		if o["Service/user-service"] == nil {
			t.Error("no Service for the ports")
		}
		// A name whose first label is the service's adds nothing.
		sf.Services[0].DNSDiscovery.Name = "user-service.staging"
		if o := mapped(t, sf, nil); len(o) != 2 {
			t.Errorf("objects %v", keys(o))
		}
	})
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestIgnoredFields(t *testing.T) {
	sf := &purser.Stackfile{VPC: &purser.VPC{ID: "vpc-1"}, Logging: &purser.Logging{LogDriver: "awslogs"},
		ServiceDiscovery: &purser.ServiceDiscovery{Namespace: "example.sd"},
		Services: []purser.StackService{
			{Name: "a", Image: "a", DNSDiscovery: &purser.DNSDiscovery{Name: "a.x"}, ELB: &purser.ELB{Type: "public", Name: "x",
				Certificates: []string{"my-tls"}, DNS: &purser.ELBDNS{HostedZoneID: "Z", RecordName: "a.example.com"}}},
			{Name: "b", Image: "b", Type: "task", Ports: []string{"80:80"}},
		}}
	n := sf.Normalize()
	got := func(i int) string {
		var fs []string
		for _, f := range IgnoredFields(n, &n.Services[i]) {
			if f.Reason == "" {
				t.Errorf("%s without a reason", f.Field)
			}
			fs = append(fs, f.Field)
		}
		return strings.Join(fs, ",")
	}
	if g := got(0); g != "vpc,logging,service_discovery.namespace,dns_discovery.healthcheck,elb.name,elb.certificates,elb.dns.hosted_zone_id" {
		t.Errorf("a: %s", g)
	}
	if g := got(1); g != "vpc,logging,ports,deployment_configuration" {
		t.Errorf("b: %s", g)
	}
	plain := one(purser.StackService{Name: "c", Image: "c"}).Normalize()
	if f := IgnoredFields(plain, &plain.Services[0]); len(f) != 0 {
		t.Errorf("a plain service: %v", f)
	}
}

func ev(name, value string) purser.EnvVar { return purser.EnvVar{Name: name, Value: value} }

func TestRedactedKeepsTheKindOfRefusal(t *testing.T) {
	err := redacted(apierrors.NewInvalid(schema.GroupKind{Kind: "Secret"}, "web-env", kfield.ErrorList{
		kfield.Invalid(kfield.NewPath("data"), "hunter2", "bad")}))
	if !apierrors.IsInvalid(err) || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("redacted: %v", err)
	}
	if err := redacted(errors.New("dial tcp: refused")); apierrors.IsInvalid(err) || err.Error() != "the secret could not be written" {
		t.Fatalf("a transport error: %v", err)
	}
}
