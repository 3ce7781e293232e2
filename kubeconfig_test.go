package purser

import (
	"strings"
	"testing"
)

func TestKubeconfig(t *testing.T) {
	t.Parallel()
	k8s := &Template{Meta: Meta{ID: "ns"}, Driver: "exec", ResourceType: "KUBERNETES"}
	bucket := &Template{Meta: Meta{ID: "bucket"}, Driver: "sim", ResourceType: "S3BUCKET"}
	tests := []struct {
		name    string
		status  Status
		t       *Template
		outputs map[string]string
		code    string
		want    string // the kubeconfig, or words of the error
	}{
		{"OK", StatusDeployed, k8s, map[string]string{"kubeconfig": "apiVersion: v1"}, "", "apiVersion: v1"},
		{"ErrFailed", StatusFailed, k8s, nil, ECONFLICT, "request r1 is FAILED (its provisioning failed: see last_error)"},
		{"ErrNotYet", StatusInitiated, k8s, nil, ECONFLICT, "not provisioned yet"},
		{"ErrPurged", StatusPurged, k8s, nil, ECONFLICT, "request r1 is PURGED: only a DEPLOYED environment has a kubeconfig"},
		{"ErrNotKubernetes", StatusDeployed, bucket, map[string]string{"endpoint": "x"}, ENOTFOUND,
			"template bucket makes S3BUCKET environments, not KUBERNETES ones"},
		{"ErrDriverGaveNone", StatusDeployed, k8s, map[string]string{"endpoint": "x", "bucket": "b"}, ENOTFOUND,
			`template ns's driver exec gave request r1 no "kubeconfig" output (its outputs are bucket, endpoint)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kc, err := request(tt.status).Kubeconfig(tt.t, tt.outputs)
			if ErrorCode(err) != tt.code {
				t.Fatalf("err %v, want code %q", err, tt.code)
			}
			if err == nil && kc != tt.want || err != nil && !strings.Contains(ErrorMessage(err), tt.want) {
				t.Fatalf("got %q, %v; want %q", kc, err, tt.want)
			}
		})
	}
}
