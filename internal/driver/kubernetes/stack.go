package kubernetes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/purserhq/purser"
)

// The resources a stack writes and reads.
var (
	deployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	daemonSets  = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "daemonsets"}
	replicaSets = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}
	jobs        = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
	services    = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	secretsRes  = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	pods        = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	events      = schema.GroupVersionResource{Version: "v1", Resource: "events"}
)

// resourceOf is the resource of a kind the stack target writes.
var resourceOf = map[string]schema.GroupVersionResource{
	"Deployment": deployments, "DaemonSet": daemonSets, "Job": jobs, "Service": services, "Secret": secretsRes,
}

// workloadKinds are the kinds a service runs as, which Actual lists.
var workloadKinds = []string{"Deployment", "DaemonSet", "Job"}

// stackKinds are every kind a service's objects have, in the order they
// are deleted: what serves it first, its secret last.
var stackKinds = []string{"Service", "Deployment", "DaemonSet", "Job", "Secret"}

// StackTarget runs a cluster's stack on Kubernetes: every service in the
// cluster's namespace (Cluster.Namespace), written with server-side apply
// under the field manager "purser" and labelled with the stack and the
// service (StackLabels). Objects maps a service onto its objects; Apply
// applies them, deletes what the service no longer has, and waits until
// the rollout is complete; Actual reads the workloads back.
type StackTarget struct {
	// Client returns a dynamic client for a cluster; nil: from its
	// credentials (RESTConfig).
	Client func(c *purser.Cluster) (dynamic.Interface, error)
	// Poll is how often a rollout's progress is read (default 1 s).
	Poll time.Duration
	// DeleteTimeout bounds the wait for a deleted service's objects to be
	// gone (default: the cluster's healthy deadline).
	DeleteTimeout time.Duration
}

var _ purser.StackTarget = (*StackTarget)(nil)

// NewStackTarget returns the Kubernetes stack target, acting with each
// cluster's stored credentials.
func NewStackTarget() *StackTarget { return &StackTarget{} }

func (t *StackTarget) client(c *purser.Cluster) (dynamic.Interface, error) {
	if t.Client != nil {
		return t.Client(c)
	}
	cfg, err := RESTConfig(c)
	if err != nil {
		return nil, err
	}
	return dynamic.NewForConfig(cfg)
}

func (t *StackTarget) poll() time.Duration {
	if t.Poll > 0 {
		return t.Poll
	}
	return time.Second
}

// stackSelector selects the objects of cluster's stack, or of one of its
// services.
func stackSelector(cluster, service string) string {
	s := LabelManagedBy + "=purser," + LabelStack + "=" + labelValue(cluster)
	if service != "" {
		s += "," + LabelService + "=" + service
	}
	return s
}

// Actual returns the services of the cluster's stack: one per workload
// (Deployment, DaemonSet, Job) labelled with it in its namespace, whatever
// its service (so that a service the stack no longer has plans as a
// deletion: that is the prune). The spec is the one Purser applied (the
// AnnotationSpec), with the live image, count, memory and environment
// over it, so a change made behind Purser's back shows as drift.
func (t *StackTarget) Actual(ctx context.Context, c *purser.Cluster) ([]purser.ActualService, error) {
	dc, err := t.client(c)
	if err != nil {
		return nil, err
	}
	ns := c.Namespace()
	seen := map[string]bool{}
	var out []purser.ActualService
	for _, kind := range workloadKinds {
		l, err := dc.Resource(resourceOf[kind]).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: stackSelector(c.Name, "")})
		if err != nil {
			return nil, fmt.Errorf("list %s in %s: %w", resourceOf[kind].Resource, ns, err)
		}
		for i := range l.Items {
			a, ok := actualService(&l.Items[i])
			if !ok || seen[a.Spec.Name] {
				continue
			}
			seen[a.Spec.Name] = true
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Spec.Name < out[j].Spec.Name })
	return out, nil
}

// actualService reads a workload back into the service it runs.
func actualService(o *unstructured.Unstructured) (purser.ActualService, bool) {
	name := o.GetLabels()[LabelService]
	if name == "" {
		return purser.ActualService{}, false
	}
	var svc purser.StackService
	if raw := o.GetAnnotations()[AnnotationSpec]; raw == "" || json.Unmarshal([]byte(raw), &svc) != nil {
		svc = purser.StackService{Type: purser.ServiceTypeService} // not applied by this version: the live fields only
		if o.GetKind() == "Job" {
			svc.Type = "task"
		} else if o.GetKind() == "DaemonSet" {
			svc.PlacementStrategy = purser.PlacementEveryNode
		}
	}
	svc.Name = name
	live(o, &svc)
	var running int64
	switch o.GetKind() {
	case "Deployment":
		running, _, _ = unstructured.NestedInt64(o.Object, "status", "availableReplicas")
	case "DaemonSet":
		running, _, _ = unstructured.NestedInt64(o.Object, "status", "numberAvailable")
	case "Job":
		running, _, _ = unstructured.NestedInt64(o.Object, "status", "active")
	}
	return purser.ActualService{Spec: svc, RunningCount: int(running)}, true
}

// live sets svc's image, desired count, memory and environment from the
// workload's live spec, mapping its secret references back to ${NAME}.
func live(o *unstructured.Unstructured, svc *purser.StackService) {
	if o.GetKind() == "Deployment" {
		if n, ok, _ := unstructured.NestedInt64(o.Object, "spec", "replicas"); ok {
			count := int(n)
			svc.DesiredCount = &count
		}
	}
	containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
	var ctr map[string]any
	for _, x := range containers {
		m, _ := x.(map[string]any)
		if m != nil && (ctr == nil || m["name"] == containerName) {
			ctr = m
		}
	}
	if ctr == nil {
		return
	}
	if img, ok := ctr["image"].(string); ok {
		svc.Image = img
	}
	if mem, ok, _ := unstructured.NestedString(ctr, "resources", "limits", "memory"); ok {
		// The API server writes quantities its own way (1024Mi is 1Gi).
		if q, err := resource.ParseQuantity(mem); err == nil {
			svc.Memory = int(q.Value() >> 20)
		}
	} else {
		svc.Memory = 0 // no limit: drift
	}
	envs, _, _ := unstructured.NestedSlice(ctr, "env")
	var env []purser.EnvVar
	for _, x := range envs {
		m, _ := x.(map[string]any)
		name, _ := m["name"].(string)
		if name == "" {
			continue
		}
		value, _ := m["value"].(string)
		if ref, ok, _ := unstructured.NestedMap(m, "valueFrom", "secretKeyRef"); ok {
			if ref["name"] == SecretName(svc.Name) {
				key, _ := ref["key"].(string)
				value = "${" + key + "}"
			} else {
				value = fmt.Sprintf("(secret %v key %v)", ref["name"], ref["key"])
			}
		} else if _, ok := m["valueFrom"]; ok {
			value = "(valueFrom)"
		}
		env = append(env, purser.EnvVar{Name: name, Value: value})
	}
	sort.SliceStable(env, func(i, j int) bool { return env[i].Name < env[j].Name })
	svc.Environment = env
}

// Apply carries out one service's step: applies its objects (Objects),
// deletes those it no longer has (a Service for ports it closed, a
// workload of another kind), and waits until its rollout is complete
// (rolloutComplete) within in.Healthy; or deletes every object of the
// service and waits until they are gone.
func (t *StackTarget) Apply(ctx context.Context, c *purser.Cluster, step purser.ServicePlan, in purser.ApplyInput) error {
	if step.Action == purser.PlanUnchanged {
		return nil
	}
	dc, err := t.client(c)
	if err != nil {
		return err
	}
	ns := c.Namespace()
	healthy := in.Healthy
	if healthy <= 0 {
		healthy = c.HealthyDeadline()
	}
	if step.Action == purser.PlanDelete || in.Service == nil {
		timeout := t.DeleteTimeout
		if timeout <= 0 {
			timeout = healthy
		}
		return t.prune(ctx, dc, c.Name, ns, step.Service, nil, timeout)
	}
	svc := in.Service
	objs, err := Objects(c.Name, ns, in.Stack, svc, in.Secrets)
	if err != nil {
		return err
	}
	if err := ensureNamespace(ctx, dc, ns); err != nil {
		return err
	}
	opts := metav1.ApplyOptions{FieldManager: fieldManager, Force: true}
	keep := map[string]bool{}
	var workload *unstructured.Unstructured
	secretVersion := ""
	for _, o := range objs {
		kind, name := o.GetKind(), o.GetName()
		keep[kind+"/"+name] = true
		res := dc.Resource(resourceOf[kind]).Namespace(ns)
		switch kind {
		case "Job":
			// A Job's template cannot change: a changed task is a new run.
			if err := replaceChangedJob(ctx, dc, ns, o, healthy, t.poll()); err != nil {
				return err
			}
			fallthrough
		case "Deployment", "DaemonSet":
			if secretVersion != "" {
				_ = unstructured.SetNestedField(o.Object, secretVersion, "spec", "template", "metadata", "annotations", AnnotationSecretVersion)
			}
		}
		applied, err := res.Apply(ctx, name, o, opts)
		if err != nil && kind == "Secret" {
			err = redacted(err)
		}
		if err != nil {
			if apierrors.IsInvalid(err) || apierrors.IsForbidden(err) || apierrors.IsBadRequest(err) {
				return &purser.RolloutError{Service: svc.Name, Reason: fmt.Sprintf("the cluster refuses %s %s: %v", strings.ToLower(kind), name, err)}
			}
			return fmt.Errorf("apply %s %s/%s: %w", strings.ToLower(kind), ns, name, err)
		}
		switch kind {
		case "Secret":
			secretVersion = applied.GetResourceVersion()
		case "Deployment", "DaemonSet", "Job":
			workload = applied
		}
	}
	if err := t.prune(ctx, dc, c.Name, ns, svc.Name, keep, healthy); err != nil {
		return err
	}
	return t.waitHealthy(ctx, dc, ns, svc.Name, workload, healthy)
}

// redacted is an API error about a Secret without its message, which may
// quote the values: its reason and code only, so it is still classified.
func redacted(err error) error {
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		return errors.New("the secret could not be written")
	}
	s := st.Status()
	return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Reason: s.Reason, Code: s.Code,
		Message: fmt.Sprintf("the secret was refused (%s, %d)", s.Reason, s.Code)}}
}

// ensureNamespace creates ns unless it exists. A client that may not read
// namespaces goes on: the applies say whether it may write in ns.
func ensureNamespace(ctx context.Context, dc dynamic.Interface, ns string) error {
	_, err := dc.Resource(namespaces).Get(ctx, ns, metav1.GetOptions{})
	if err == nil || apierrors.IsForbidden(err) {
		return nil
	}
	if !apierrors.IsNotFound(err) {
		return fmt.Errorf("namespace %s: %w", ns, err)
	}
	_, err = dc.Resource(namespaces).Create(ctx, object("v1", "Namespace", "", ns, map[string]string{LabelManagedBy: "purser"}, nil), metav1.CreateOptions{FieldManager: fieldManager})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	return nil
}

// replaceChangedJob deletes the Job o replaces when it ran another spec,
// and waits until it is gone.
func replaceChangedJob(ctx context.Context, dc dynamic.Interface, ns string, o *unstructured.Unstructured, timeout, poll time.Duration) error {
	res := dc.Resource(jobs).Namespace(ns)
	cur, err := res.Get(ctx, o.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if cur.GetAnnotations()[AnnotationSpecHash] == o.GetAnnotations()[AnnotationSpecHash] {
		return nil
	}
	return deleteAndWait(ctx, dc, ns, jobs, o.GetName(), timeout, poll)
}

// prune deletes the objects of service (of cluster's stack, in ns) that
// keep does not name ("Kind/name"): all of them when keep is nil. It waits
// until they are gone.
func (t *StackTarget) prune(ctx context.Context, dc dynamic.Interface, cluster, ns, service string, keep map[string]bool, timeout time.Duration) error {
	sel := metav1.ListOptions{LabelSelector: stackSelector(cluster, service)}
	for _, kind := range stackKinds {
		res := resourceOf[kind]
		l, err := dc.Resource(res).Namespace(ns).List(ctx, sel)
		if err != nil {
			if apierrors.IsNotFound(err) { // the namespace is gone, or never was
				continue
			}
			return fmt.Errorf("list %s in %s: %w", res.Resource, ns, err)
		}
		for _, o := range l.Items {
			if keep[kind+"/"+o.GetName()] {
				continue
			}
			if err := deleteAndWait(ctx, dc, ns, res, o.GetName(), timeout, t.poll()); err != nil {
				return err
			}
		}
	}
	return nil
}

// deleteAndWait deletes an object in the foreground (its pods first) and
// waits until it is gone.
func deleteAndWait(ctx context.Context, dc dynamic.Interface, ns string, res schema.GroupVersionResource, name string, timeout, poll time.Duration) error {
	fg := metav1.DeletePropagationForeground
	err := dc.Resource(res).Namespace(ns).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &fg})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete %s %s/%s: %w", res.Resource, ns, name, err)
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		_, err := dc.Resource(res).Namespace(ns).Get(wctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wctx.Done():
			return fmt.Errorf("%s %s/%s is still there %s after its deletion", res.Resource, ns, name, timeout)
		case <-tick.C:
		}
	}
}

// waitHealthy polls the workload until rolloutComplete says so, or fails
// at the deadline with the pods that are not ready and their last events.
func (t *StackTarget) waitHealthy(ctx context.Context, dc dynamic.Interface, ns, service string, w *unstructured.Unstructured, deadline time.Duration) error {
	if w == nil {
		return nil
	}
	res := resourceOf[w.GetKind()]
	wctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	tick := time.NewTicker(t.poll())
	defer tick.Stop()
	why := "its status was never read"
	read := false
	for {
		o, err := dc.Resource(res).Namespace(ns).Get(wctx, w.GetName(), metav1.GetOptions{})
		if err == nil {
			var done bool
			read = true
			done, why = rolloutComplete(o)
			if done {
				return nil
			}
			if failed := rolloutFailed(o); failed != "" {
				return &purser.RolloutError{Service: service, Reason: failed + t.podReport(ctx, dc, ns, o)}
			}
		} else if !read && wctx.Err() == nil {
			why = "its status could not be read: " + err.Error()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wctx.Done():
			rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
			defer rcancel()
			if o == nil {
				o = w
			}
			return &purser.RolloutError{Service: service, Reason: fmt.Sprintf("not healthy within %s: %s%s", deadline, why, t.podReport(rctx, dc, ns, o))}
		case <-tick.C:
		}
	}
}

// rolloutComplete reports whether a workload's rollout is complete, and
// if not, how far it is, from its status: a Deployment whose controller
// saw its generation with every replica updated and available (a count
// of 0 at once), a DaemonSet with every scheduled pod updated and
// available, a Job whose pods all succeeded.
func rolloutComplete(o *unstructured.Unstructured) (bool, string) {
	i64 := func(path ...string) int64 {
		n, _, _ := unstructured.NestedInt64(o.Object, path...)
		return n
	}
	kind := strings.ToLower(o.GetKind())
	observed := i64("status", "observedGeneration") >= o.GetGeneration()
	switch o.GetKind() {
	case "Deployment":
		want := int64(1)
		if n, ok, _ := unstructured.NestedInt64(o.Object, "spec", "replicas"); ok {
			want = n
		}
		if want == 0 {
			return true, "scaled to 0"
		}
		if !observed {
			return false, fmt.Sprintf("deployment %s: the controller has not seen generation %d yet", o.GetName(), o.GetGeneration())
		}
		updated, total, available := i64("status", "updatedReplicas"), i64("status", "replicas"), i64("status", "availableReplicas")
		if updated < want || total > updated || available < want {
			return false, fmt.Sprintf("deployment %s: %d of %d replicas updated, %d available, %d old", o.GetName(), updated, want, available, total-updated)
		}
		return true, fmt.Sprintf("deployment %s: %d of %d replicas updated and available", o.GetName(), available, want)
	case "DaemonSet":
		if !observed {
			return false, fmt.Sprintf("daemonset %s: the controller has not seen generation %d yet", o.GetName(), o.GetGeneration())
		}
		want, updated, available := i64("status", "desiredNumberScheduled"), i64("status", "updatedNumberScheduled"), i64("status", "numberAvailable")
		if updated < want || available < want {
			return false, fmt.Sprintf("daemonset %s: %d of %d nodes updated, %d available", o.GetName(), updated, want, available)
		}
		return true, fmt.Sprintf("daemonset %s: %d of %d nodes updated and available", o.GetName(), available, want)
	case "Job":
		want := int64(1)
		if n, ok, _ := unstructured.NestedInt64(o.Object, "spec", "completions"); ok {
			want = n
		}
		if want == 0 || conditionTrue(o, "Complete") {
			return true, fmt.Sprintf("job %s complete", o.GetName())
		}
		succeeded := i64("status", "succeeded")
		if succeeded >= want {
			return true, fmt.Sprintf("job %s: %d of %d succeeded", o.GetName(), succeeded, want)
		}
		return false, fmt.Sprintf("job %s: %d of %d succeeded, %d running, %d failed", o.GetName(), succeeded, want, i64("status", "active"), i64("status", "failed"))
	}
	return false, kind + " " + o.GetName() + " is no workload"
}

// rolloutFailed says why a workload's rollout can no longer complete (a
// Job that failed, a Deployment past its progress deadline), or "".
func rolloutFailed(o *unstructured.Unstructured) string {
	switch o.GetKind() {
	case "Job":
		if c := condition(o, "Failed"); c != nil && c["status"] == "True" {
			return fmt.Sprintf("job %s failed: %v: %v", o.GetName(), c["reason"], c["message"])
		}
	case "Deployment":
		if c := condition(o, "Progressing"); c != nil && c["reason"] == "ProgressDeadlineExceeded" {
			return fmt.Sprintf("deployment %s: %v", o.GetName(), c["message"])
		}
	}
	return ""
}

func condition(o *unstructured.Unstructured, typ string) map[string]any {
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	for _, x := range conds {
		if c, ok := x.(map[string]any); ok && c["type"] == typ {
			return c
		}
	}
	return nil
}

func conditionTrue(o *unstructured.Unstructured, typ string) bool {
	c := condition(o, typ)
	return c != nil && c["status"] == "True"
}

// maxReportedPods bounds the pods a failed rollout names.
const maxReportedPods = 5

// podReport lists the workload's pods that are not ready, each with its
// phase and why, and its newest 3 events; with no pods, the events of the
// workload and its ReplicaSets (a quota refusing pods shows there).
func (t *StackTarget) podReport(ctx context.Context, dc dynamic.Interface, ns string, w *unstructured.Unstructured) string {
	sel := metav1.ListOptions{LabelSelector: stackSelector(w.GetLabels()[LabelStack], w.GetLabels()[LabelService])}
	if w.GetLabels()[LabelStack] == "" {
		return ""
	}
	// stackSelector sanitises the cluster name; the label holds it sanitised already.
	l, err := dc.Resource(pods).Namespace(ns).List(ctx, sel)
	if err != nil {
		return "; its pods could not be listed: " + err.Error()
	}
	var b strings.Builder
	notReady := 0
	for i := range l.Items {
		p := &l.Items[i]
		if podReady(p) {
			continue
		}
		notReady++
		if notReady > maxReportedPods {
			continue
		}
		b.WriteString("; pod " + p.GetName() + ": " + podState(p))
		if ev := lastEvents(ctx, dc, ns, "Pod", p.GetName(), 3); ev != "" {
			b.WriteString(" (events: " + ev + ")")
		}
	}
	if notReady > maxReportedPods {
		fmt.Fprintf(&b, "; and %d more pods not ready", notReady-maxReportedPods)
	}
	if len(l.Items) == 0 {
		b.WriteString("; no pods exist")
		var evs []string
		if ev := lastEvents(ctx, dc, ns, w.GetKind(), w.GetName(), 3); ev != "" {
			evs = append(evs, strings.ToLower(w.GetKind())+" "+w.GetName()+": "+ev)
		}
		if w.GetKind() == "Deployment" {
			if rs, err := dc.Resource(replicaSets).Namespace(ns).List(ctx, sel); err == nil {
				for _, r := range rs.Items {
					if ev := lastEvents(ctx, dc, ns, "ReplicaSet", r.GetName(), 3); ev != "" {
						evs = append(evs, "replicaset "+r.GetName()+": "+ev)
					}
				}
			}
		}
		if len(evs) > 0 {
			b.WriteString(" (events: " + strings.Join(evs, "; ") + ")")
		}
	}
	return b.String()
}

func podReady(p *unstructured.Unstructured) bool {
	c := condition(p, "Ready")
	return c != nil && c["status"] == "True"
}

// podState is a pod's phase and why it is not ready: a container
// waiting or terminated (ImagePullBackOff, CrashLoopBackOff, Error), or a
// condition that is not met (PodScheduled: Unschedulable).
func podState(p *unstructured.Unstructured) string {
	phase, _, _ := unstructured.NestedString(p.Object, "status", "phase")
	if phase == "" {
		phase = "Pending"
	}
	statuses, _, _ := unstructured.NestedSlice(p.Object, "status", "containerStatuses")
	for _, x := range statuses {
		cs, _ := x.(map[string]any)
		for _, st := range []string{"waiting", "terminated"} {
			if s, ok, _ := unstructured.NestedMap(cs, "state", st); ok {
				if r, _ := s["reason"].(string); r != "" && r != "Completed" {
					out := phase + ": " + r
					if m, _ := s["message"].(string); m != "" {
						out += ": " + clip(m, 200)
					}
					return out
				}
			}
		}
	}
	conds, _, _ := unstructured.NestedSlice(p.Object, "status", "conditions")
	for _, typ := range []string{"PodScheduled", "Initialized", "ContainersReady", "Ready"} {
		for _, x := range conds {
			c, _ := x.(map[string]any)
			if c["type"] != typ || c["status"] == "True" {
				continue
			}
			out := phase
			if r, _ := c["reason"].(string); r != "" {
				out += ": " + r
			} else {
				out += ": not " + typ
			}
			if m, _ := c["message"].(string); m != "" {
				out += ": " + clip(m, 200)
			}
			return out
		}
	}
	if len(conds) == 0 && phase == "Pending" {
		return "Pending: not scheduled yet"
	}
	return phase + ": not ready"
}

// lastEvents is an object's newest n events, newest first, as
// "Reason: message" separated by " | ".
func lastEvents(ctx context.Context, dc dynamic.Interface, ns, kind, name string, n int) string {
	l, err := dc.Resource(events).Namespace(ns).List(ctx, metav1.ListOptions{
		FieldSelector: "involvedObject.kind=" + kind + ",involvedObject.name=" + name})
	if err != nil || len(l.Items) == 0 {
		return ""
	}
	items := l.Items
	slices.SortStableFunc(items, func(a, b unstructured.Unstructured) int { return eventTime(&b).Compare(eventTime(&a)) })
	var out []string
	for i := 0; i < len(items) && i < n; i++ {
		reason, _, _ := unstructured.NestedString(items[i].Object, "reason")
		msg, _, _ := unstructured.NestedString(items[i].Object, "message")
		out = append(out, reason+": "+clip(msg, 200))
	}
	return strings.Join(out, " | ")
}

// eventTime is when an event last happened.
func eventTime(e *unstructured.Unstructured) time.Time {
	for _, f := range []string{"lastTimestamp", "eventTime", "firstTimestamp"} {
		if s, _, _ := unstructured.NestedString(e.Object, f); s != "" {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return t
			}
		}
	}
	return e.GetCreationTimestamp().Time
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// IgnoredFields implements purser.FieldNoter: plans of a stack on a
// Kubernetes cluster note what this target does not carry out.
func (t *StackTarget) IgnoredFields(stack *purser.Stackfile, svc *purser.StackService) []purser.IgnoredField {
	return IgnoredFields(stack, svc)
}
