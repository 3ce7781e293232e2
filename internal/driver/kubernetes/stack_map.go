package kubernetes

// The Kubernetes stack target's mapping of a stackfile service onto
// Kubernetes objects: pure functions, no client. docs/stacks-kubernetes.md
// is the same mapping as a table; stack_map_test.go tests it row by row.

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/purserhq/purser"
)

// Labels and annotations on a stack's objects.
const (
	LabelStack   = "purser.dev/stack"   // the cluster whose stack made it
	LabelService = "purser.dev/service" // the stackfile service
	// AnnotationSpec holds the normalised service as Purser applied it,
	// with ${NAME} references, never resolved values: Actual reads it back.
	AnnotationSpec = "purser.dev/spec"
	// AnnotationSpecHash is a short hash of AnnotationSpec: the applied
	// "revision" of the service (ApplyInput carries no revision number).
	AnnotationSpecHash = "purser.dev/spec-hash"
	// AnnotationSecretVersion, on the pod template, is the resourceVersion
	// of the service's env Secret: a secret's new value restarts the pods.
	AnnotationSecretVersion = "purser.dev/secret-version"
)

// Annotations that carry a load balancer's settings to the cloud's
// controller.
const (
	annotationAWSScheme   = "service.beta.kubernetes.io/aws-load-balancer-scheme"
	annotationAWSInternal = "service.beta.kubernetes.io/aws-load-balancer-internal"
	annotationGKEType     = "networking.gke.io/load-balancer-type"
	annotationAzureIntern = "service.beta.kubernetes.io/azure-load-balancer-internal"
	annotationAWSSSLCert  = "service.beta.kubernetes.io/aws-load-balancer-ssl-cert"
	annotationAWSSSLPorts = "service.beta.kubernetes.io/aws-load-balancer-ssl-ports"
	annotationAWSBackend  = "service.beta.kubernetes.io/aws-load-balancer-backend-protocol"
	annotationExternalDNS = "external-dns.alpha.kubernetes.io/hostname"
)

// containerName is the name of a service's one container.
const containerName = "main"

// SecretName is the Secret holding the resolved ${NAME} values of a
// service's environment, one key per cluster secret.
func SecretName(service string) string { return service + "-env" }

// LoadBalancerName is the Service of type LoadBalancer of a service's elb.
func LoadBalancerName(service string) string { return service + "-lb" }

// DiscoveryName is the Service a dns_discovery name maps to: its first
// label (user.staging → user), which resolves in the namespace as "user",
// and as "user.staging" when the namespace is staging.
func DiscoveryName(name string) string {
	first, _, _ := strings.Cut(name, ".")
	return dnsLabel(first, 63)
}

// StackLabels are the labels of every object of a service of cluster's
// stack; the selector of its workload is these too.
func StackLabels(cluster, service string) map[string]string {
	return map[string]string{LabelManagedBy: "purser", LabelStack: labelValue(cluster), LabelService: service}
}

// labelValue makes s a valid label value: at most 63 of [A-Za-z0-9_.-],
// starting and ending with an alphanumeric.
func labelValue(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '-'
		}
	}
	if len(b) > 63 {
		b = b[:63]
	}
	return strings.Trim(string(b), "-_.")
}

// specJSON is the service as the annotation holds it, and its hash.
func specJSON(svc *purser.StackService) (string, string) {
	b, err := json.Marshal(svc)
	if err != nil {
		panic(fmt.Sprintf("a service does not encode: %v", err)) // plain types only: cannot happen
	}
	sum := sha256.Sum256(b)
	return string(b), hex.EncodeToString(sum[:6])
}

// WorkloadKind is the kind a service runs as: a Job for a task, a
// DaemonSet for placement_strategy every_node, else a Deployment.
func WorkloadKind(svc *purser.StackService) string {
	switch {
	case svc.Type != "" && svc.Type != purser.ServiceTypeService:
		return "Job"
	case svc.PlacementStrategy == purser.PlacementEveryNode:
		return "DaemonSet"
	}
	return "Deployment"
}

// Objects returns the Kubernetes objects that run svc, a service of
// stack (normalised) on cluster, in namespace ns, in the order they are
// applied: its env Secret (when it refers to cluster secrets), its
// workload (Deployment, DaemonSet or Job), then the Services for its
// ports, its load balancer and its DNS name. secrets holds the values of
// the ${NAME} references; one missing is a *purser.RolloutError. The
// mapping is docs/stacks-kubernetes.md.
func Objects(cluster, ns string, stack *purser.Stackfile, svc *purser.StackService, secrets map[string]string) ([]*unstructured.Unstructured, error) {
	labels := StackLabels(cluster, svc.Name)
	spec, hash := specJSON(svc)
	var out []*unstructured.Unstructured

	env := make([]any, 0, len(svc.Environment))
	secretData := map[string]any{}
	for _, e := range svc.Environment {
		ref, ok := purser.SecretRef(e.Value)
		if !ok {
			env = append(env, map[string]any{"name": e.Name, "value": e.Value})
			continue
		}
		v, ok := secrets[ref]
		if !ok {
			return nil, &purser.RolloutError{Service: svc.Name, Reason: "the secret ${" + ref + "} has no value"}
		}
		secretData[ref] = base64.StdEncoding.EncodeToString([]byte(v))
		env = append(env, map[string]any{"name": e.Name, "valueFrom": map[string]any{
			"secretKeyRef": map[string]any{"name": SecretName(svc.Name), "key": ref}}})
	}
	if len(secretData) > 0 {
		out = append(out, object("v1", "Secret", ns, SecretName(svc.Name), labels,
			map[string]any{"type": "Opaque", "data": secretData}))
	}

	container := map[string]any{"name": containerName, "image": svc.Image,
		"resources": map[string]any{"limits": map[string]any{"memory": strconv.Itoa(svc.Memory) + "Mi"}}}
	if len(env) > 0 {
		container["env"] = env
	}
	var cports, sports []any
	seenHost := map[int]bool{}
	seenContainer := map[int]bool{}
	for _, p := range svc.Ports {
		host, cport, err := purser.ParsePort(p)
		if err != nil {
			continue // Validate refused it already
		}
		if !seenContainer[cport] {
			seenContainer[cport] = true
			cports = append(cports, map[string]any{"containerPort": int64(cport), "protocol": "TCP"})
		}
		if !seenHost[host] {
			seenHost[host] = true
			sports = append(sports, map[string]any{"name": "p" + strconv.Itoa(host), "port": int64(host),
				"targetPort": int64(cport), "protocol": "TCP"})
		}
	}
	if e := svc.ELB; e != nil && e.Ports.Container > 0 && !seenContainer[e.Ports.Container] {
		cports = append(cports, map[string]any{"containerPort": int64(e.Ports.Container), "protocol": "TCP"})
	}
	if len(cports) > 0 {
		container["ports"] = cports
	}
	if svc.Privileged {
		container["securityContext"] = map[string]any{"privileged": true}
	}
	var volumes, mounts []any
	seenVol := map[string]bool{}
	for _, v := range svc.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) != 3 {
			continue // Validate refused it already
		}
		name := dnsLabel(parts[0], 63)
		if !seenVol[name] {
			seenVol[name] = true
			volumes = append(volumes, map[string]any{"name": name, "hostPath": map[string]any{"path": parts[1]}})
		}
		mounts = append(mounts, map[string]any{"name": name, "mountPath": parts[2]})
	}
	if len(mounts) > 0 {
		container["volumeMounts"] = mounts
	}
	if h := svc.Healthcheck; h != nil && len(h.Command) > 0 {
		probe := map[string]any{"exec": map[string]any{"command": stringsAny(probeCommand(h.Command))},
			"periodSeconds": int64(h.IntervalSeconds), "timeoutSeconds": int64(h.TimeoutSeconds),
			"failureThreshold": int64(h.Retries)}
		if h.StartPeriodSeconds > 0 {
			probe["initialDelaySeconds"] = int64(h.StartPeriodSeconds)
		}
		container["livenessProbe"] = probe
		container["readinessProbe"] = cloneMap(probe)
	}
	if e := svc.ELB; e != nil && e.Healthcheck != nil {
		container["readinessProbe"] = elbProbe(e)
	}

	podSpec := map[string]any{"containers": []any{container}}
	if len(volumes) > 0 {
		podSpec["volumes"] = volumes
	}
	template := map[string]any{"metadata": map[string]any{"labels": stringMap(labels)}, "spec": podSpec}
	selector := map[string]any{"matchLabels": stringMap(map[string]string{LabelStack: labels[LabelStack], LabelService: svc.Name})}
	kind := WorkloadKind(svc)
	var workload *unstructured.Unstructured
	switch kind {
	case "Job":
		podSpec["restartPolicy"] = "Never"
		n := int64(svc.Count())
		workload = object("batch/v1", "Job", ns, svc.Name, labels, map[string]any{"spec": map[string]any{
			"completions": n, "parallelism": n, "template": template}})
	case "DaemonSet":
		ds := map[string]any{"selector": selector, "template": template}
		if dc := svc.DeploymentConfiguration; dc != nil {
			ds["updateStrategy"] = map[string]any{"type": "RollingUpdate", "rollingUpdate": map[string]any{
				"maxUnavailable": percent(100-dc.MinimumHealthyPercent, 1)}}
		}
		workload = object("apps/v1", "DaemonSet", ns, svc.Name, labels, map[string]any{"spec": ds})
	default:
		d := map[string]any{"replicas": int64(svc.Count()), "selector": selector, "template": template}
		if dc := svc.DeploymentConfiguration; dc != nil {
			var surge any = percent(dc.MaximumPercent-100, 0)
			unavailable := percent(100-dc.MinimumHealthyPercent, 0)
			if surge == "0%" && unavailable == "0%" {
				surge = int64(1) // Kubernetes refuses both 0: one extra pod at a time
			}
			d["strategy"] = map[string]any{"type": "RollingUpdate", "rollingUpdate": map[string]any{
				"maxSurge": surge, "maxUnavailable": unavailable}}
		}
		workload = object("apps/v1", "Deployment", ns, svc.Name, labels, map[string]any{"spec": d})
	}
	workload.SetAnnotations(map[string]string{AnnotationSpec: spec, AnnotationSpecHash: hash})
	out = append(out, workload)

	if kind == "Job" {
		return out, nil // a task serves nothing
	}
	if len(sports) > 0 {
		out = append(out, object("v1", "Service", ns, svc.Name, labels, map[string]any{"spec": map[string]any{
			"type": "ClusterIP", "selector": selector["matchLabels"], "ports": sports}}))
	}
	if e := svc.ELB; e != nil {
		out = append(out, loadBalancer(ns, svc.Name, labels, selector["matchLabels"], e))
	}
	if d := svc.DNSDiscovery; d != nil {
		name := DiscoveryName(d.Name)
		if name != svc.Name || len(sports) == 0 {
			spec := map[string]any{"clusterIP": "None", "selector": selector["matchLabels"]}
			if len(sports) > 0 {
				spec["ports"] = sports
			}
			out = append(out, object("v1", "Service", ns, name, labels, map[string]any{"spec": spec}))
		}
	}
	return out, nil
}

// loadBalancer is the Service of type LoadBalancer of an elb: the public
// port to the container port, public or private through each cloud's
// annotation, an ACM certificate (HTTPS) through AWS's, and the DNS
// record through external-dns's.
func loadBalancer(ns, service string, labels map[string]string, selector any, e *purser.ELB) *unstructured.Unstructured {
	ann := map[string]string{}
	if e.Type == purser.ELBPrivate {
		ann[annotationAWSScheme] = "internal"
		ann[annotationAWSInternal] = "true"
		ann[annotationGKEType] = "Internal"
		ann[annotationAzureIntern] = "true"
	} else {
		ann[annotationAWSScheme] = "internet-facing"
	}
	var arns []string
	for _, c := range e.Certificates {
		if strings.HasPrefix(c, "arn:") {
			arns = append(arns, c)
		}
	}
	if e.Protocol == "HTTPS" && len(arns) > 0 {
		ann[annotationAWSSSLCert] = strings.Join(arns, ",")
		ann[annotationAWSSSLPorts] = strconv.Itoa(e.Ports.Public)
		ann[annotationAWSBackend] = "http"
	}
	if e.DNS != nil && e.DNS.RecordName != "" {
		ann[annotationExternalDNS] = e.DNS.RecordName
	}
	lb := object("v1", "Service", ns, LoadBalancerName(service), labels, map[string]any{"spec": map[string]any{
		"type": "LoadBalancer", "selector": selector, "ports": []any{map[string]any{"name": "lb",
			"port": int64(e.Ports.Public), "targetPort": int64(e.Ports.Container), "protocol": "TCP"}}}})
	lb.SetAnnotations(ann)
	return lb
}

// elbProbe is the readiness probe of an elb's health check: an HTTP(S)
// GET of its path, or a TCP connection, on its port.
func elbProbe(e *purser.ELB) map[string]any {
	h := e.Healthcheck
	port := h.Port
	if port == 0 {
		port = e.Ports.Container
	}
	probe := map[string]any{"periodSeconds": int64(h.IntervalSeconds), "timeoutSeconds": int64(h.TimeoutSeconds),
		"successThreshold": int64(h.HealthyThresholdCount), "failureThreshold": int64(h.UnhealthyThresholdCount)}
	switch strings.ToUpper(h.Protocol) {
	case "TCP":
		probe["tcpSocket"] = map[string]any{"port": int64(port)}
	default:
		scheme := "HTTP"
		if strings.EqualFold(h.Protocol, "HTTPS") {
			scheme = "HTTPS"
		}
		probe["httpGet"] = map[string]any{"path": h.Path, "port": int64(port), "scheme": scheme}
	}
	return probe
}

// probeCommand turns a Docker health check command into an exec probe's:
// ["CMD-SHELL", "x"] runs x with /bin/sh -c, ["CMD", args...] runs args.
func probeCommand(cmd []string) []string {
	switch {
	case len(cmd) >= 2 && cmd[0] == "CMD-SHELL":
		return []string{"/bin/sh", "-c", strings.Join(cmd[1:], " ")}
	case len(cmd) >= 2 && cmd[0] == "CMD":
		return cmd[1:]
	}
	return cmd
}

// percent is p% as an IntOrString, at least min.
func percent(p, min int) string {
	if p < min {
		p = min
	}
	return strconv.Itoa(p) + "%"
}

func stringsAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Ignored is a field of a stackfile a target does not carry out, and why.
type Ignored = purser.IgnoredField

// IgnoredFields lists the fields of svc (and of its stack, normalised)
// that the Kubernetes target does not carry out, for the plan to note:
// they are AWS's (VPC, log drivers, Route 53 zones) or have no Kubernetes
// counterpart. Field paths are the stackfile's.
func IgnoredFields(stack *purser.Stackfile, svc *purser.StackService) []Ignored {
	var out []Ignored
	add := func(f, why string) { out = append(out, Ignored{Field: f, Reason: why}) }
	if stack != nil && stack.VPC != nil {
		add("vpc", "subnets and security groups are AWS's: pods run on the cluster's network")
	}
	if svc.Logging != nil && (svc.Logging.LogDriver != "" || len(svc.Logging.Options) > 0) {
		add("logging", "log drivers ("+svc.Logging.LogDriver+") are ECS's: containers log to stdout, the cluster's log agent collects")
	}
	if stack != nil && stack.ServiceDiscovery != nil && svc.DNSDiscovery != nil {
		add("service_discovery.namespace", "names resolve in the cluster's DNS: "+DiscoveryName(svc.DNSDiscovery.Name)+
			" in the namespace, "+DiscoveryName(svc.DNSDiscovery.Name)+".<namespace> across namespaces")
	}
	if d := svc.DNSDiscovery; d != nil && d.Healthcheck != nil {
		add("dns_discovery.healthcheck", "only ready pods are published: the readiness probe decides")
	}
	if e := svc.ELB; e != nil {
		if e.Name != "" {
			add("elb.name", "the load balancer's Service is named "+LoadBalancerName(svc.Name))
		}
		for _, c := range e.Certificates {
			if !strings.HasPrefix(c, "arn:") {
				add("elb.certificates", "only ACM certificate ARNs are passed on (the AWS load balancer annotation)")
				break
			}
		}
		if e.DNS != nil && e.DNS.HostedZoneID != "" {
			add("elb.dns.hosted_zone_id", "the record is asked of external-dns by annotation; it picks the zone")
		}
		if WorkloadKind(svc) == "Job" {
			add("elb", "a task serves nothing: no load balancer")
		}
	}
	if WorkloadKind(svc) == "DaemonSet" && svc.DesiredCount != nil && *svc.DesiredCount != purser.DefaultDesiredCount {
		add("desired_count", "every_node runs one pod per node")
	}
	if WorkloadKind(svc) == "Job" {
		if len(svc.Ports) > 0 {
			add("ports", "a task serves nothing: no Service")
		}
		if svc.DeploymentConfiguration != nil {
			add("deployment_configuration", "a task is run, not rolled")
		}
	}
	return out
}
