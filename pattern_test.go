package purser

import (
	"strings"
	"testing"
)

// The bounds moved out of the expressions: the lengths at and past them.
func TestBoundedPatternsKeepTheirBounds(t *testing.T) {
	arn := "arn:aws:iam::123456789012:role/"
	for _, tc := range []struct {
		name string
		p    interface{ MatchString(string) bool }
		s    string
		want bool
	}{
		{"role ARN, 512-byte name", roleARNRE, arn + strings.Repeat("r", 512), true},
		{"role ARN, 513-byte name", roleARNRE, arn + strings.Repeat("r", 513), false},
		{"role ARN, empty name", roleARNRE, arn, false},
		{"role ARN, path", roleARNRE, arn + "ops/deployer", true},
		{"ECS cluster, 255", ecsClusterRE, strings.Repeat("c", 255), true},
		{"ECS cluster, 256", ecsClusterRE, strings.Repeat("c", 256), false},
		{"ECS cluster, empty", ecsClusterRE, "", false},
		{"access key, 15", accessKeyRE, strings.Repeat("A", 15), false},
		{"access key, 16", accessKeyRE, strings.Repeat("A", 16), true},
		{"host name, 253", hostNameRE, strings.Repeat("h", 253), true},
		{"host name, 254", hostNameRE, strings.Repeat("h", 254), false},
		{"host name, ends with a dot", hostNameRE, "node-1.", false},
		{"image tag, 128", imageTagRE, strings.Repeat("t", 128), true},
		{"image tag, 129", imageTagRE, strings.Repeat("t", 129), false},
		{"image tag, leading dot", imageTagRE, ".v1", false},
		{"username, 100", usernameRE, strings.Repeat("u", 100), true},
		{"username, 101", usernameRE, strings.Repeat("u", 101), false},
		{"role, 101", roleRE, strings.Repeat("r", 101), false},
		{"secret name, 128", secretNameRE, strings.Repeat("S", 128), true},
		{"secret name, 129", secretNameRE, strings.Repeat("S", 129), false},
	} {
		if got := tc.p.MatchString(tc.s); got != tc.want {
			t.Errorf("%s: match = %v, want %v", tc.name, got, tc.want)
		}
	}
}
