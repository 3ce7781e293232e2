package purser

import (
	"fmt"
	"sort"
	"strings"
)

// KubeconfigOutput is the output under which a driver gives an
// environment's kubeconfig.
const KubeconfigOutput = "kubeconfig"

// Kubeconfig returns the kubeconfig among the outputs of r's environment,
// made from template t (the revision r pinned), or an error that states
// why there is none, from what is known rather than guessed: the request
// has no environment now (ECONFLICT, naming its status), its template
// makes no Kubernetes environment, or its driver gave no kubeconfig
// (ENOTFOUND, naming the template, driver and outputs).
func (r *Request) Kubeconfig(t *Template, outputs map[string]string) (string, error) {
	if kc := outputs[KubeconfigOutput]; kc != "" {
		return kc, nil
	}
	if r.Status != StatusDeployed {
		why := ""
		switch r.Status {
		case StatusFailed:
			why = " (its provisioning failed: see last_error)"
		case StatusRequested, StatusApproved, StatusInitiated:
			why = " (it is not provisioned yet: wait until it is DEPLOYED)"
		}
		return "", Errorf(ECONFLICT, "request %s is %s%s: only a DEPLOYED environment has a kubeconfig", r.ID, r.Status, why)
	}
	if t.ResourceType != "KUBERNETES" {
		return "", Errorf(ENOTFOUND, "template %s makes %s environments, not KUBERNETES ones: request %s has no kubeconfig",
			t.ID, t.ResourceType, r.ID)
	}
	names := make([]string, 0, len(outputs))
	for k := range outputs {
		names = append(names, k)
	}
	sort.Strings(names)
	have := "it gave no outputs"
	if len(names) > 0 {
		have = "its outputs are " + strings.Join(names, ", ")
	}
	return "", &Error{Code: ENOTFOUND, Message: fmt.Sprintf("template %s's driver %s gave request %s no %q output (%s)",
		t.ID, t.Driver, r.ID, KubeconfigOutput, have)}
}
