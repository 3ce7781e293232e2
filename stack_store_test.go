package purser

import (
	"strings"
	"testing"
)

func TestCheckIfMatch(t *testing.T) {
	t.Parallel()
	n := func(v int) *int { return &v }
	cur := &StackRevision{Number: 3}
	for _, tt := range []struct {
		name string
		want *int
		cur  *StackRevision
		code string
	}{
		{"NoPrecondition", nil, cur, ""},
		{"Current", n(3), cur, ""},
		{"Stale", n(2), cur, EPRECONDITION},
		{"FirstRevision", n(0), nil, ""},
		{"NotFirstAnyMore", n(0), cur, EPRECONDITION},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckIfMatch("c", tt.want, tt.cur); ErrorCode(err) != tt.code {
				t.Fatalf("CheckIfMatch = %v, want %q", err, tt.code)
			}
		})
	}
}

func TestCheckSecretRefs(t *testing.T) {
	t.Parallel()
	err := CheckSecretRefs("c1", []string{"A", "B", "C"}, map[string]bool{"B": true})
	e, ok := err.(*Error)
	if !ok || e.Code != EINVALID || len(e.Fields) != 2 || !strings.Contains(e.Fields[0].Message, "${A}") ||
		!strings.Contains(e.Fields[1].Message, "${C}") || !strings.Contains(e.Fields[1].Message, "c1") {
		t.Fatalf("CheckSecretRefs = %#v", err)
	}
	if err := CheckSecretRefs("c1", []string{"B"}, map[string]bool{"B": true}); err != nil {
		t.Fatal(err)
	}
}

func TestValidateSecret(t *testing.T) {
	t.Parallel()
	for name, ok := range map[string]bool{"DB_PASSWORD": true, "_x1": true, "1X": false, "A-B": false, "": false, strings.Repeat("A", 129): false} {
		if err := ValidateSecret(name, "v"); (err == nil) != ok {
			t.Errorf("ValidateSecret(%q) = %v", name, err)
		}
	}
	if err := ValidateSecret("BIG", strings.Repeat("x", MaxSecretSize+1)); ErrorCode(err) != EINVALID {
		t.Errorf("a value past MaxSecretSize: %v", err)
	}
}

func TestCheckSecretUnused(t *testing.T) {
	t.Parallel()
	cur := &StackRevision{Number: 2, Cluster: "c", Normalized: &Stackfile{Services: []StackService{{Name: "web", Environment: []EnvVar{{"P", "${DB}"}}}}}}
	if err := CheckSecretUnused(cur, "DB"); ErrorCode(err) != ECONFLICT {
		t.Fatalf("deleting a secret in use: %v", err)
	}
	if err := CheckSecretUnused(cur, "OTHER"); err != nil {
		t.Fatal(err)
	}
	if err := CheckSecretUnused(nil, "DB"); err != nil {
		t.Fatal(err)
	}
}
