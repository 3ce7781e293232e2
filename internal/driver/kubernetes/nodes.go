package kubernetes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/purserhq/purser"
)

// AnnotationCordoned marks a node Purser cordoned to drain it, so that
// only those are made schedulable again when their host is a member again
// (a node an operator cordoned stays cordoned).
const AnnotationCordoned = "purser.dev/cordoned"

var (
	nodesGVR = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
	podsGVR  = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
)

// PoolNodes is a pool's Kubernetes API (purser.PoolCluster): a host's
// node is named after the host. It reads nodes and pods as plain JSON
// through the dynamic client, like the rest of the package, and posts
// evictions through a REST client that does not retry: the API server
// answers a refused eviction with a Retry-After, which client-go would
// otherwise wait out ten times in one call.
type PoolNodes struct {
	dc dynamic.Interface
	rc *rest.RESTClient
}

var _ purser.PoolCluster = (*PoolNodes)(nil)

// NewPoolNodes returns the API of a pool whose control plane cfg reaches.
func NewPoolNodes(cfg *rest.Config) (*PoolNodes, error) {
	// A sweep reads nodes and pods and drains nodes: more than client-go's
	// default 5 requests a second allow without waiting.
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 50, 100
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("pool cluster client: %w", err)
	}
	rc, err := rest.UnversionedRESTClientFor(dynamic.ConfigFor(cfg))
	if err != nil {
		return nil, fmt.Errorf("pool cluster client: %w", err)
	}
	return &PoolNodes{dc: dc, rc: rc}, nil
}

// The few fields of nodes and pods the pool's sweep reads.
type (
	objectMeta struct {
		Name              string            `json:"name"`
		Namespace         string            `json:"namespace"`
		Annotations       map[string]string `json:"annotations"`
		DeletionTimestamp *string           `json:"deletionTimestamp"`
		OwnerReferences   []struct {
			Kind string `json:"kind"`
		} `json:"ownerReferences"`
	}
	kubeCondition struct {
		Type   string `json:"type"`
		Status string `json:"status"`
		Reason string `json:"reason"`
	}
	nodeDoc struct {
		Metadata objectMeta `json:"metadata"`
		Spec     struct {
			Unschedulable bool `json:"unschedulable"`
		} `json:"spec"`
		Status struct {
			Allocatable map[string]string `json:"allocatable"`
			Conditions  []kubeCondition   `json:"conditions"`
		} `json:"status"`
	}
	podContainer struct {
		Resources struct {
			Requests map[string]string `json:"requests"`
		} `json:"resources"`
	}
	podDoc struct {
		Metadata objectMeta `json:"metadata"`
		Spec     struct {
			NodeName       string            `json:"nodeName"`
			Containers     []podContainer    `json:"containers"`
			InitContainers []podContainer    `json:"initContainers"`
			Overhead       map[string]string `json:"overhead"`
		} `json:"spec"`
		Status struct {
			Phase      string          `json:"phase"`
			Conditions []kubeCondition `json:"conditions"`
		} `json:"status"`
	}
)

// list lists objects of gvr (all namespaces) into out (a slice of docs).
func (n *PoolNodes) list(ctx context.Context, gvr schema.GroupVersionResource, opts metav1.ListOptions, out any) error {
	l, err := n.dc.Resource(gvr).List(ctx, opts)
	if err != nil {
		return apiError("list "+gvr.Resource, err)
	}
	items := make([]map[string]any, len(l.Items))
	for i := range l.Items {
		items[i] = l.Items[i].Object
	}
	b, err := json.Marshal(items)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// milli is an amount of cpu in millicores and memory in bytes.
type milli struct{ cpu, mem int64 }

func (m milli) add(o milli) milli { return milli{m.cpu + o.cpu, m.mem + o.mem} }

func quantities(l map[string]string) milli {
	var m milli
	if q, err := resource.ParseQuantity(l["cpu"]); err == nil {
		m.cpu = q.MilliValue()
	}
	if q, err := resource.ParseQuantity(l["memory"]); err == nil {
		m.mem = q.Value()
	}
	return m
}

// requests is what the scheduler reserves for a pod: the larger of its
// containers' sum and its largest init container, plus its overhead.
func (p *podDoc) requests() milli {
	var sum, initMax milli
	for _, c := range p.Spec.Containers {
		sum = sum.add(quantities(c.Resources.Requests))
	}
	for _, c := range p.Spec.InitContainers {
		r := quantities(c.Resources.Requests)
		initMax = milli{max(initMax.cpu, r.cpu), max(initMax.mem, r.mem)}
	}
	return milli{max(sum.cpu, initMax.cpu), max(sum.mem, initMax.mem)}.add(quantities(p.Spec.Overhead))
}

// done reports whether the pod finished: it holds nothing any more.
func (p *podDoc) done() bool { return p.Status.Phase == "Succeeded" || p.Status.Phase == "Failed" }

// evictable reports whether a drain moves the pod: not a DaemonSet's (it
// would come back) nor a mirror pod (its kubelet owns it), not finished.
func (p *podDoc) evictable() bool {
	if _, mirror := p.Metadata.Annotations["kubernetes.io/config.mirror"]; mirror || p.done() {
		return false
	}
	for _, o := range p.Metadata.OwnerReferences {
		if o.Kind == "DaemonSet" {
			return false
		}
	}
	return true
}

// unschedulable reports whether the scheduler found no node for the pod.
func (p *podDoc) unschedulable() bool {
	if p.Spec.NodeName != "" || p.Metadata.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == "PodScheduled" && c.Status == "False" && c.Reason == "Unschedulable" {
			return true
		}
	}
	return false
}

func (d *nodeDoc) ready() bool {
	for _, c := range d.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True"
		}
	}
	return false
}

// ceilCores rounds millicores up to cores (a request), floorCores down
// (what a node offers).
func ceilCores(m int64) int  { return int((m + 999) / 1000) }
func floorCores(m int64) int { return int(m / 1000) }

// Usage reads the pool's usage: the requests of the pods on the members'
// nodes against those nodes' allocatable resources, the evictable pods of
// each, the members without a Ready node, the nodes Purser cordoned, and
// the cluster's unschedulable pods with the largest request among them
// (cores and memory each the largest).
func (n *PoolNodes) Usage(ctx context.Context, members []string) (purser.PoolUsage, error) {
	u := purser.PoolUsage{Pods: map[string]int{}}
	var nodes []nodeDoc
	if err := n.list(ctx, nodesGVR, metav1.ListOptions{}, &nodes); err != nil {
		return u, err
	}
	var pods []podDoc
	if err := n.list(ctx, podsGVR, metav1.ListOptions{}, &pods); err != nil {
		return u, err
	}
	seen := map[string]bool{}
	var alloc, req milli
	for i := range nodes {
		d := &nodes[i]
		if !slices.Contains(members, d.Metadata.Name) {
			continue
		}
		if d.Metadata.Annotations[AnnotationCordoned] != "" {
			u.Cordoned = append(u.Cordoned, d.Metadata.Name)
		}
		if !d.ready() {
			continue
		}
		seen[d.Metadata.Name] = true
		alloc = alloc.add(quantities(d.Status.Allocatable))
	}
	for _, m := range members {
		if !seen[m] {
			u.Unready = append(u.Unready, m)
		}
	}
	slices.Sort(u.Unready)
	var need milli
	for i := range pods {
		p := &pods[i]
		switch {
		case p.unschedulable():
			r := p.requests()
			u.Pending++
			need = milli{max(need.cpu, r.cpu), max(need.mem, r.mem)}
		case seen[p.Spec.NodeName] && !p.done():
			req = req.add(p.requests())
			if p.evictable() {
				u.Pods[p.Spec.NodeName]++
			}
		}
	}
	u.Requested = purser.Resources{Cores: ceilCores(req.cpu), Memory: req.mem}
	u.Allocatable = purser.Resources{Cores: floorCores(alloc.cpu), Memory: alloc.mem}
	u.PendingNeed = purser.Resources{Cores: ceilCores(need.cpu), Memory: need.mem}
	return u, nil
}

// node reads one node; ENOTFOUND when it is not there.
func (n *PoolNodes) node(ctx context.Context, name string) (*nodeDoc, error) {
	obj, err := n.dc.Resource(nodesGVR).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, purser.Errorf(purser.ENOTFOUND, "node %s not found", name)
	}
	if err != nil {
		return nil, apiError("get node "+name, err)
	}
	b, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, err
	}
	var d nodeDoc
	return &d, json.Unmarshal(b, &d)
}

// Cordon marks the node unschedulable, and as cordoned by Purser unless
// it was cordoned already (by someone else: it stays so).
func (n *PoolNodes) Cordon(ctx context.Context, name string) error {
	d, err := n.node(ctx, name)
	if err != nil || d.Spec.Unschedulable {
		return err
	}
	patch := `{"metadata":{"annotations":{"` + AnnotationCordoned + `":"drain"}},"spec":{"unschedulable":true}}`
	if _, err := n.dc.Resource(nodesGVR).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: fieldManager}); err != nil {
		return apiError("cordon node "+name, err)
	}
	return nil
}

// Uncordon makes the node schedulable again if Purser cordoned it.
func (n *PoolNodes) Uncordon(ctx context.Context, name string) error {
	d, err := n.node(ctx, name)
	if purser.ErrorCode(err) == purser.ENOTFOUND {
		return nil
	}
	if err != nil || d.Metadata.Annotations[AnnotationCordoned] == "" {
		return err
	}
	patch := `{"metadata":{"annotations":{"` + AnnotationCordoned + `":null}},"spec":{"unschedulable":false}}`
	if _, err := n.dc.Resource(nodesGVR).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: fieldManager}); err != nil {
		return apiError("uncordon node "+name, err)
	}
	return nil
}

// apiError translates an error of the pool's API once, at the boundary:
// the API server's own answer is safe to show; a transport error only
// says the API cannot be reached (its details are logged).
func apiError(op string, err error) error {
	msg := op + ": the pool's Kubernetes API cannot be reached"
	var se *apierrors.StatusError
	if errors.As(err, &se) && se.ErrStatus.Message != "" {
		msg = op + ": " + se.ErrStatus.Message
	}
	return &purser.Error{Code: purser.EUNAVAILABLE, Message: msg, Err: err}
}
