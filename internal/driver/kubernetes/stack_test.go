package kubernetes

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/k8stest"
	"github.com/purserhq/purser/internal/stackfile"
)

func status(kind string, generation int64, spec, st map[string]any) *unstructured.Unstructured {
	o := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": kind,
		"metadata": map[string]any{"name": "web", "generation": generation}, "spec": spec, "status": st}}
	return o
}

func TestRolloutComplete(t *testing.T) {
	for _, c := range []struct {
		name string
		obj  *unstructured.Unstructured
		done bool
		why  string
	}{
		{"DeploymentNotObserved", status("Deployment", 2, map[string]any{"replicas": int64(2)},
			map[string]any{"observedGeneration": int64(1), "replicas": int64(2), "updatedReplicas": int64(2), "availableReplicas": int64(2)}),
			false, "has not seen generation 2"},
		{"DeploymentUpdating", status("Deployment", 2, map[string]any{"replicas": int64(2)},
			map[string]any{"observedGeneration": int64(2), "replicas": int64(3), "updatedReplicas": int64(1), "availableReplicas": int64(2)}),
			false, "1 of 2 replicas updated, 2 available, 2 old"},
		{"DeploymentOldPodsLeft", status("Deployment", 2, map[string]any{"replicas": int64(2)},
			map[string]any{"observedGeneration": int64(2), "replicas": int64(3), "updatedReplicas": int64(2), "availableReplicas": int64(2)}),
			false, "1 old"},
		{"DeploymentNotAvailable", status("Deployment", 1, map[string]any{"replicas": int64(2)},
			map[string]any{"observedGeneration": int64(1), "replicas": int64(2), "updatedReplicas": int64(2), "availableReplicas": int64(1)}),
			false, "1 available"},
		{"DeploymentComplete", status("Deployment", 3, map[string]any{"replicas": int64(2)},
			map[string]any{"observedGeneration": int64(3), "replicas": int64(2), "updatedReplicas": int64(2), "availableReplicas": int64(2)}),
			true, "2 of 2 replicas updated and available"},
		{"DeploymentScaledToZeroAtOnce", status("Deployment", 4, map[string]any{"replicas": int64(0)},
			map[string]any{"observedGeneration": int64(3), "replicas": int64(2)}), true, "scaled to 0"},
		{"DaemonSetUpdating", status("DaemonSet", 1, nil,
			map[string]any{"observedGeneration": int64(1), "desiredNumberScheduled": int64(3), "updatedNumberScheduled": int64(2), "numberAvailable": int64(3)}),
			false, "2 of 3 nodes updated"},
		{"DaemonSetComplete", status("DaemonSet", 1, nil,
			map[string]any{"observedGeneration": int64(1), "desiredNumberScheduled": int64(3), "updatedNumberScheduled": int64(3), "numberAvailable": int64(3)}),
			true, "3 of 3 nodes"},
		{"DaemonSetNotObserved", status("DaemonSet", 2, nil,
			map[string]any{"observedGeneration": int64(1), "desiredNumberScheduled": int64(3), "updatedNumberScheduled": int64(3), "numberAvailable": int64(3)}),
			false, "has not seen generation 2"},
		{"JobRunning", status("Job", 1, map[string]any{"completions": int64(2)},
			map[string]any{"succeeded": int64(1), "active": int64(1)}), false, "1 of 2 succeeded, 1 running"},
		{"JobSucceeded", status("Job", 1, map[string]any{"completions": int64(2)},
			map[string]any{"succeeded": int64(2)}), true, "2 of 2 succeeded"},
		{"JobCompleteCondition", status("Job", 1, nil,
			map[string]any{"conditions": []any{map[string]any{"type": "Complete", "status": "True"}}}), true, "complete"},
		{"JobOfZero", status("Job", 1, map[string]any{"completions": int64(0)}, nil), true, "complete"},
	} {
		t.Run(c.name, func(t *testing.T) {
			done, why := rolloutComplete(c.obj)
			if done != c.done || !strings.Contains(why, c.why) {
				t.Fatalf("rolloutComplete = %v, %q; want %v, …%q…", done, why, c.done, c.why)
			}
		})
	}
}

func TestRolloutFailed(t *testing.T) {
	job := status("Job", 1, nil, map[string]any{"conditions": []any{map[string]any{"type": "Failed", "status": "True",
		"reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}}})
	if got := rolloutFailed(job); !strings.Contains(got, "BackoffLimitExceeded") {
		t.Errorf("failed job: %q", got)
	}
	dep := status("Deployment", 1, nil, map[string]any{"conditions": []any{map[string]any{"type": "Progressing", "status": "False",
		"reason": "ProgressDeadlineExceeded", "message": `ReplicaSet "web-1" has timed out progressing.`}}})
	if got := rolloutFailed(dep); !strings.Contains(got, "timed out progressing") {
		t.Errorf("stuck deployment: %q", got)
	}
	if got := rolloutFailed(status("Deployment", 1, nil, nil)); got != "" {
		t.Errorf("a fresh deployment failed: %q", got)
	}
}

func TestPodState(t *testing.T) {
	pod := func(st map[string]any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{"kind": "Pod", "status": st}}
	}
	for _, c := range []struct {
		st   map[string]any
		want string
	}{
		{map[string]any{"phase": "Pending", "containerStatuses": []any{map[string]any{"state": map[string]any{"waiting": map[string]any{
			"reason": "ImagePullBackOff", "message": `Back-off pulling image "nope:1"`}}}}}, `Pending: ImagePullBackOff: Back-off pulling image "nope:1"`},
		{map[string]any{"phase": "Pending", "conditions": []any{map[string]any{"type": "PodScheduled", "status": "False",
			"reason": "Unschedulable", "message": "0/1 nodes are available"}}}, "Pending: Unschedulable: 0/1 nodes are available"},
		{map[string]any{"phase": "Running", "conditions": []any{map[string]any{"type": "PodScheduled", "status": "True"},
			map[string]any{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}}}, "Running: ContainersNotReady"},
		{map[string]any{"phase": "Running", "containerStatuses": []any{map[string]any{"state": map[string]any{"waiting": map[string]any{
			"reason": "CrashLoopBackOff"}}}}}, "Running: CrashLoopBackOff"},
		{nil, "Pending: not scheduled yet"},
	} {
		if got := podState(pod(c.st)); got != c.want {
			t.Errorf("podState = %q, want %q", got, c.want)
		}
	}
}

// seedStack is the seed's stackfile, its user-service given a secret.
func seedStack(t *testing.T) *purser.Stackfile {
	t.Helper()
	data, err := os.ReadFile("../../stackfile/testdata/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sf, err := stackfile.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	sf.Service("user-service").Environment = append(sf.Service("user-service").Environment, purser.EnvVar{Name: "DB_PASSWORD", Value: "${DB_PASS}"})
	return sf.Normalize()
}

// applyPlan applies every step of the plan of desired against the
// target, as the reconciler does, and returns each step's error.
func applyPlan(t *testing.T, st *StackTarget, c *purser.Cluster, desired *purser.Stackfile, secrets map[string]string, healthy time.Duration) (purser.Plan, map[string]error) {
	t.Helper()
	ctx := context.Background()
	actual, err := st.Actual(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	plan := purser.PlanStack(desired, actual)
	errs := map[string]error{}
	for _, step := range plan.Services {
		errs[step.Service] = st.Apply(ctx, c, step, purser.ApplyInput{Stack: desired, Service: desired.Service(step.Service), Secrets: secrets, Healthy: healthy})
	}
	return plan, errs
}

// notHealthy checks err is the rollout error of a control plane without
// a deployment controller: nothing ever becomes available.
func notHealthy(t *testing.T, service string, err error) {
	t.Helper()
	var re *purser.RolloutError
	if !errors.As(err, &re) || re.Service != service || !strings.Contains(re.Reason, "not healthy within") {
		t.Fatalf("%s: %v, want a rollout error: not healthy", service, err)
	}
}

func TestStackTarget(t *testing.T) {
	cp := controlPlane(t)
	ctx := context.Background()
	admin := k8stest.Client(t, cp.Kubeconfig)
	c := &purser.Cluster{Name: "staging", Kind: purser.ClusterKubernetes, Kubeconfig: cp.Kubeconfig, StackNamespace: "stk-seed"}
	st := &StackTarget{Poll: 100 * time.Millisecond}
	ns := c.Namespace()
	desired := seedStack(t)
	secrets := map[string]string{"DB_PASS": "s3cret"}
	deployment := func(name string) *appsv1.Deployment {
		t.Helper()
		d, err := admin.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	// Without a scheduler or a deployment controller nothing becomes
	// available: every apply ends in a rollout error, objects applied.
	plan, errs := applyPlan(t, st, c, desired, secrets, time.Second)
	if plan.Count(purser.PlanCreate) != 3 {
		t.Fatalf("first plan %+v", plan)
	}
	for _, name := range []string{"routing-service", "user-service", "email-worker"} {
		notHealthy(t, name, errs[name])
	}
	if r := errs["email-worker"].(*purser.RolloutError).Reason; !strings.Contains(r, "deployment email-worker: the controller has not seen generation 1 yet") ||
		!strings.Contains(r, "no pods exist") {
		t.Errorf("reason %q", r)
	}

	t.Run("ObjectsExistWithTheMappedFields", func(t *testing.T) {
		d := deployment("user-service")
		ctr := d.Spec.Template.Spec.Containers[0]
		if ctr.Image != "xxx.dkr.ecr.us-east-1.amazonaws.com/user-service:latest" || *d.Spec.Replicas != 1 ||
			ctr.Resources.Limits.Memory().String() != "930Mi" || ctr.Ports[0].ContainerPort != 80 {
			t.Errorf("user-service: image %s replicas %d memory %s ports %v", ctr.Image, *d.Spec.Replicas, ctr.Resources.Limits.Memory(), ctr.Ports)
		}
		env := map[string]corev1.EnvVar{}
		for _, e := range ctr.Env {
			env[e.Name] = e
		}
		if env["SPRING_PROFILES_ACTIVE"].Value != "staging" || env["SERVER_PORT"].Value != "80" ||
			env["DB_PASSWORD"].ValueFrom == nil || env["DB_PASSWORD"].ValueFrom.SecretKeyRef.Name != "user-service-env" {
			t.Errorf("env %v", ctr.Env)
		}
		sec, err := admin.CoreV1().Secrets(ns).Get(ctx, "user-service-env", metav1.GetOptions{})
		if err != nil || string(sec.Data["DB_PASS"]) != "s3cret" {
			t.Fatalf("secret %v %v", sec, err)
		}
		if d.Spec.Template.Annotations[AnnotationSecretVersion] != sec.ResourceVersion {
			t.Errorf("pod template secret version %q, secret %s", d.Spec.Template.Annotations[AnnotationSecretVersion], sec.ResourceVersion)
		}
		for _, f := range d.ManagedFields {
			if f.Operation == metav1.ManagedFieldsOperationApply && f.Manager != "purser" {
				t.Errorf("applied by %s", f.Manager)
			}
		}
		if _, err := admin.CoreV1().Services(ns).Get(ctx, "user", metav1.GetOptions{}); err != nil {
			t.Errorf("dns_discovery user.staging: %v", err)
		}
		lb, err := admin.CoreV1().Services(ns).Get(ctx, "routing-service-lb", metav1.GetOptions{})
		if err != nil || lb.Spec.Type != corev1.ServiceTypeLoadBalancer || lb.Spec.Ports[0].Port != 443 ||
			lb.Annotations[annotationExternalDNS] != "staging.example.com" {
			t.Fatalf("load balancer %v %v", lb, err)
		}
		rp := deployment("routing-service").Spec.Template.Spec.Containers[0].ReadinessProbe
		if rp == nil || rp.HTTPGet == nil || rp.HTTPGet.Path != "/health" || rp.HTTPGet.Port.IntValue() != 8080 {
			t.Errorf("routing-service readiness %v", rp)
		}
	})

	t.Run("NoPhantomDrift", func(t *testing.T) {
		actual, err := st.Actual(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if p := purser.PlanStack(desired, actual); !p.NoOp() {
			t.Fatalf("an applied stack plans %s", p.Summary())
		}
		for _, a := range actual {
			if a.Spec.Name == "user-service" && a.Spec.Environment[0].Value != "${DB_PASS}" {
				t.Errorf("actual env %v", a.Spec.Environment)
			}
		}
	})

	t.Run("ChangedImageUpdates", func(t *testing.T) {
		desired.Service("user-service").Image = "xxx.dkr.ecr.us-east-1.amazonaws.com/user-service:v2"
		secrets["DB_PASS"] = "n3w"
		before := deployment("user-service").Spec.Template.Annotations[AnnotationSecretVersion]
		plan, errs := applyPlan(t, st, c, desired, secrets, time.Second)
		if plan.Count(purser.PlanUpdate) != 1 || plan.Count(purser.PlanUnchanged) != 2 {
			t.Fatalf("plan %s", plan.Summary())
		}
		notHealthy(t, "user-service", errs["user-service"])
		d := deployment("user-service")
		if img := d.Spec.Template.Spec.Containers[0].Image; !strings.HasSuffix(img, ":v2") {
			t.Errorf("image %s", img)
		}
		if d.Spec.Template.Annotations[AnnotationSecretVersion] == before {
			t.Error("a new secret value does not restart the pods")
		}
		actual, _ := st.Actual(ctx, c)
		if p := purser.PlanStack(desired, actual); !p.NoOp() {
			t.Fatalf("after the update: %s", p.Summary())
		}
	})

	t.Run("ChangeBehindPurserIsDrift", func(t *testing.T) {
		patch := `{"spec":{"replicas":4,"template":{"spec":{"containers":[{"name":"main","image":"evil:1"}]}}}}`
		if _, err := admin.AppsV1().Deployments(ns).Patch(ctx, "email-worker", types.StrategicMergePatchType, []byte(patch),
			metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
			t.Fatal(err)
		}
		actual, err := st.Actual(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		p := purser.PlanStack(desired, actual)
		var got []string
		for _, s := range p.Services {
			for _, ch := range s.Changes {
				got = append(got, s.Service+" "+ch.Field+" "+ch.Old+"→"+ch.New)
			}
		}
		want := "email-worker image evil:1→xxx.dkr.ecr.us-east-1.amazonaws.com/email-worker:xxx,email-worker desired_count 4→1"
		if strings.Join(got, ",") != want {
			t.Fatalf("drift %v, want %s", got, want)
		}
		// Applying again corrects it.
		_, errs := applyPlan(t, st, c, desired, secrets, time.Second)
		notHealthy(t, "email-worker", errs["email-worker"])
		if d := deployment("email-worker"); *d.Spec.Replicas != 1 || strings.HasPrefix(d.Spec.Template.Spec.Containers[0].Image, "evil") {
			t.Errorf("not corrected: %d %s", *d.Spec.Replicas, d.Spec.Template.Spec.Containers[0].Image)
		}
	})

	t.Run("PruneDeletesOnlyWhatPurserLabelled", func(t *testing.T) {
		one := int32(1)
		stranger := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "stranger", Labels: map[string]string{"app": "stranger"}},
			Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "stranger"}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "stranger"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}}
		if _, err := admin.AppsV1().Deployments(ns).Create(ctx, stranger, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		strangerSvc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "user-service-other", Labels: map[string]string{LabelService: "user-service"}},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
		if _, err := admin.CoreV1().Services(ns).Create(ctx, strangerSvc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		next := desired.Normalize()
		next.Services = []purser.StackService{*next.Service("routing-service"), *next.Service("email-worker")}
		plan, errs := applyPlan(t, st, c, next, secrets, time.Second)
		if plan.Count(purser.PlanDelete) != 1 || plan.Count(purser.PlanUnchanged) != 2 {
			t.Fatalf("plan %s", plan.Summary())
		}
		if err := errs["user-service"]; err != nil {
			t.Fatalf("delete: %v", err)
		}
		if _, err := admin.AppsV1().Deployments(ns).Get(ctx, "user-service", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("user-service deployment: %v", err)
		}
		for _, name := range []string{"user-service", "user"} {
			if _, err := admin.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("service %s: %v", name, err)
			}
		}
		if _, err := admin.CoreV1().Secrets(ns).Get(ctx, "user-service-env", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("secret: %v", err)
		}
		if _, err := admin.AppsV1().Deployments(ns).Get(ctx, "stranger", metav1.GetOptions{}); err != nil {
			t.Errorf("the unlabelled deployment: %v", err)
		}
		if _, err := admin.CoreV1().Services(ns).Get(ctx, "user-service-other", metav1.GetOptions{}); err != nil {
			t.Errorf("a service not labelled managed-by purser: %v", err)
		}
		for _, name := range []string{"routing-service", "email-worker"} {
			if _, err := admin.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		actual, _ := st.Actual(ctx, c)
		if p := purser.PlanStack(next, actual); !p.NoOp() {
			t.Fatalf("after the prune: %s", p.Summary())
		}
	})
}

// TestStackTargetKinds applies a service as each kind in turn: a scale to
// 0 is healthy at once, a task is a Job (replaced when it changes), every
// node a DaemonSet, and the kind it leaves is deleted.
func TestStackTargetKinds(t *testing.T) {
	cp := controlPlane(t)
	ctx := context.Background()
	admin := k8stest.Client(t, cp.Kubeconfig)
	c := &purser.Cluster{Name: "kinds", Kind: purser.ClusterKubernetes, Kubeconfig: cp.Kubeconfig, StackNamespace: "stk-kinds"}
	st := &StackTarget{Poll: 100 * time.Millisecond}
	zero := 0
	sf := (&purser.Stackfile{Services: []purser.StackService{{Name: "web", Image: "nginx:1", DesiredCount: &zero, Ports: []string{"80:80"}}}}).Normalize()
	apply := func(healthy time.Duration) error {
		t.Helper()
		_, errs := applyPlan(t, st, c, sf, nil, healthy)
		return errs["web"]
	}
	if err := apply(time.Minute); err != nil {
		t.Fatalf("a count of 0 is healthy at once: %v", err)
	}
	sf.Services[0].Type, sf.Services[0].Image = "task", "migrate:1"
	if err := apply(time.Minute); err != nil {
		t.Fatalf("a task of 0 runs: %v", err)
	}
	if _, err := admin.AppsV1().Deployments(c.Namespace()).Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the deployment it was: %v", err)
	}
	if _, err := admin.CoreV1().Services(c.Namespace()).Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a task's service: %v", err)
	}
	j1, err := admin.BatchV1().Jobs(c.Namespace()).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sf.Services[0].Image = "migrate:2"
	if err := apply(time.Minute); err != nil {
		t.Fatalf("a changed task: %v", err)
	}
	j2, err := admin.BatchV1().Jobs(c.Namespace()).Get(ctx, "web", metav1.GetOptions{})
	if err != nil || j2.UID == j1.UID || j2.Spec.Template.Spec.Containers[0].Image != "migrate:2" {
		t.Fatalf("the changed task's job: %v %v", j2, err)
	}
	sf.Services[0].Type, sf.Services[0].PlacementStrategy = "service", purser.PlacementEveryNode
	err = apply(time.Second)
	notHealthy(t, "web", err)
	if !strings.Contains(err.Error(), "daemonset web: the controller has not seen generation 1") {
		t.Errorf("reason %v", err)
	}
	if _, err := admin.AppsV1().DaemonSets(c.Namespace()).Get(ctx, "web", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.BatchV1().Jobs(c.Namespace()).Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the job it was: %v", err)
	}
	actual, err := st.Actual(ctx, c)
	if err != nil || len(actual) != 1 || !purser.PlanStack(sf, actual).NoOp() {
		t.Fatalf("actual %+v %v", actual, err)
	}
}

// TestStackTargetReportsPods makes the pods a deployment controller and
// a scheduler would leave (this control plane runs neither): the
// rollout error names each pod not ready, its phase and reason, and its
// newest events.
func TestStackTargetReportsPods(t *testing.T) {
	cp := controlPlane(t)
	ctx := context.Background()
	admin := k8stest.Client(t, cp.Kubeconfig)
	c := &purser.Cluster{Name: "pods", Kind: purser.ClusterKubernetes, Kubeconfig: cp.Kubeconfig, StackNamespace: "stk-pods"}
	ns := c.Namespace()
	st := &StackTarget{Poll: 100 * time.Millisecond}
	sf := (&purser.Stackfile{Services: []purser.StackService{{Name: "web", Image: "nope:1"}}}).Normalize()
	if _, errs := applyPlan(t, st, c, sf, nil, 100*time.Millisecond); errs["web"] == nil {
		t.Fatal("healthy without a controller")
	}
	mk := func(name string, st corev1.PodStatus) {
		t.Helper()
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: StackLabels(c.Name, "web")},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "nope:1"}}}}
		p, err := admin.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p.Status = st
		if _, err := admin.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mk("web-unschedulable", corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled,
		Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: "0/3 nodes are available: 3 Insufficient memory."}}})
	mk("web-pull", corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{Name: "main", Image: "nope:1",
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: `Back-off pulling image "nope:1"`}}}}})
	base := time.Now().Add(-time.Minute)
	for i, reason := range []string{"Scheduled", "Pulling", "Failed", "BackOff"} {
		ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "web-pull." + reason},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web-pull", Namespace: ns},
			Reason:         reason, Message: reason + " message", Type: "Normal",
			LastTimestamp: metav1.NewTime(base.Add(time.Duration(i) * time.Second))}
		if _, err := admin.CoreV1().Events(ns).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	sf.Services[0].Memory = 512
	_, errs := applyPlan(t, st, c, sf, nil, time.Second)
	notHealthy(t, "web", errs["web"])
	r := errs["web"].Error()
	for _, want := range []string{
		"pod web-unschedulable: Pending: Unschedulable: 0/3 nodes are available: 3 Insufficient memory.",
		`pod web-pull: Pending: ImagePullBackOff: Back-off pulling image "nope:1" (events: BackOff: BackOff message | Failed: Failed message | Pulling: Pulling message)`,
	} {
		if !strings.Contains(r, want) {
			t.Errorf("the reason\n %s\ndoes not say\n %s", r, want)
		}
	}
	if strings.Contains(r, "Scheduled: ") {
		t.Errorf("more than the newest 3 events: %s", r)
	}
}

// TestStackTargetWaitsForTheRollout plays the deployment controller (this
// control plane runs none) by writing the Deployment's status: Apply
// waits while the rollout is incomplete and returns once it is complete;
// Actual counts the available replicas.
func TestStackTargetWaitsForTheRollout(t *testing.T) {
	cp := controlPlane(t)
	ctx := context.Background()
	admin := k8stest.Client(t, cp.Kubeconfig)
	c := &purser.Cluster{Name: "wait", Kind: purser.ClusterKubernetes, Kubeconfig: cp.Kubeconfig, StackNamespace: "stk-wait"}
	ns := c.Namespace()
	st := &StackTarget{Poll: 100 * time.Millisecond}
	two := 2
	sf := (&purser.Stackfile{Services: []purser.StackService{{Name: "web", Image: "nginx:1", DesiredCount: &two}}}).Normalize()
	done := make(chan error, 1)
	go func() {
		done <- st.Apply(ctx, c, purser.ServicePlan{Service: "web", Action: purser.PlanCreate},
			purser.ApplyInput{Stack: sf, Service: &sf.Services[0], Healthy: time.Minute})
	}()
	setStatus := func(updated, available int32) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			d, err := admin.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
			if err == nil {
				d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 2, UpdatedReplicas: updated,
					AvailableReplicas: available, ReadyReplicas: available}
				if _, err = admin.AppsV1().Deployments(ns).UpdateStatus(ctx, d, metav1.UpdateOptions{}); err == nil {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("status of web: %v", err)
			}
			time.Sleep(100 * time.Millisecond) // polling for the object the other goroutine applies
		}
	}
	setStatus(2, 1)
	select {
	case err := <-done:
		t.Fatalf("Apply returned with 1 of 2 available: %v", err)
	case <-time.After(time.Second):
	}
	setStatus(2, 2)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Apply: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Apply still waits with 2 of 2 available")
	}
	actual, err := st.Actual(ctx, c)
	if err != nil || len(actual) != 1 || actual[0].RunningCount != 2 {
		t.Fatalf("actual %+v %v", actual, err)
	}
}
