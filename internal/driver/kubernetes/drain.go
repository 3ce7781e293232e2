package kubernetes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser"
)

// Drain is one pass of a node's drain: the node is cordoned, then each
// evictable pod on it (not a DaemonSet's, not a mirror pod) is evicted
// through the Eviction API, which honours PodDisruptionBudgets; a pod the
// API refuses (429) stays, and the step says which budget refused ("
// disruption budget web-pdb refused eviction of default/web-1"). The next
// pass asks again. With force (the deadline passed), the pods are deleted
// at once instead, without a grace period. A missing node has nothing
// left.
func (n *PoolNodes) Drain(ctx context.Context, node string, force bool) (purser.DrainStep, error) {
	var s purser.DrainStep
	if err := n.Cordon(ctx, node); purser.ErrorCode(err) == purser.ENOTFOUND {
		return s, nil
	} else if err != nil {
		return s, err
	}
	var pods []podDoc
	if err := n.list(ctx, podsGVR, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node}, &pods); err != nil {
		return s, err
	}
	for i := range pods {
		p := &pods[i]
		if !p.evictable() {
			continue
		}
		switch {
		case force:
			gone, err := n.forceDelete(ctx, p)
			if err != nil {
				return s, err
			}
			if !gone {
				s.Forced++
			}
		case p.Metadata.DeletionTimestamp != nil: // on its way out
			s.Left++
		default:
			gone, wait, err := n.evict(ctx, p)
			if err != nil {
				return s, err
			}
			if !gone {
				s.Left++
			}
			if s.Wait == "" {
				s.Wait = wait
			}
		}
	}
	return s, nil
}

// evict asks the Eviction API to evict the pod: gone when it was gone
// already, the refusal when a disruption budget (or anything else the API
// answers 429 or 500 for) refused it.
func (n *PoolNodes) evict(ctx context.Context, p *podDoc) (gone bool, wait string, err error) {
	ns, name := p.Metadata.Namespace, p.Metadata.Name
	body, err := json.Marshal(map[string]any{"apiVersion": "policy/v1", "kind": "Eviction", "metadata": map[string]any{"name": name, "namespace": ns}})
	if err != nil {
		return false, "", err
	}
	err = n.rc.Post().AbsPath("/api/v1/namespaces", ns, "pods", name, "eviction").SetHeader("Content-Type", "application/json").
		Body(body).MaxRetries(0).Do(ctx).Error()
	switch {
	case err == nil:
		return false, "", nil
	case apierrors.IsNotFound(err):
		return true, "", nil
	case apierrors.IsTooManyRequests(err):
		return false, budgetRefusal(err, ns+"/"+name), nil
	case apierrors.IsInternalError(err): // e.g. more than one budget selects the pod
		return false, fmt.Sprintf("eviction of %s/%s refused: %s", ns, name, apiMessage(err)), nil
	}
	return false, "", apiError("evict pod "+ns+"/"+name, err)
}

// budgetRefusal names the budget that refused an eviction, from the
// cause the API server gives ("The disruption budget web-pdb needs 2
// healthy pods...").
func budgetRefusal(err error, pod string) string {
	var se *apierrors.StatusError
	if errors.As(err, &se) && se.ErrStatus.Details != nil {
		for _, c := range se.ErrStatus.Details.Causes {
			if c.Type != "DisruptionBudget" {
				continue
			}
			if rest, ok := strings.CutPrefix(c.Message, "The disruption budget "); ok {
				if f := strings.Fields(rest); len(f) > 0 {
					return "disruption budget " + f[0] + " refused eviction of " + pod
				}
			}
		}
	}
	return "eviction of " + pod + " refused: " + apiMessage(err)
}

func apiMessage(err error) string {
	var se *apierrors.StatusError
	if errors.As(err, &se) && se.ErrStatus.Message != "" {
		return se.ErrStatus.Message
	}
	return err.Error()
}

// forceDelete deletes the pod without a grace period; gone when it was.
func (n *PoolNodes) forceDelete(ctx context.Context, p *podDoc) (bool, error) {
	zero := int64(0)
	err := n.dc.Resource(podsGVR).Namespace(p.Metadata.Namespace).Delete(ctx, p.Metadata.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, apiError("delete pod "+p.Metadata.Namespace+"/"+p.Metadata.Name, err)
	}
	return false, nil
}
