package purser

import (
	"errors"
	"strings"
	"testing"
)

func TestClusterRecordCheck(t *testing.T) {
	t.Parallel()
	c := &Cluster{Name: "c1", LastError: "old"}
	c.RecordCheck("v1.37.1", nil, t0)
	if !c.Reachable || c.Version != "v1.37.1" || c.LastError != "" || !c.CheckedAt.Equal(t0) {
		t.Fatalf("reachable check recorded as %+v", c)
	}
	c.RecordCheck("", errors.New(strings.Repeat("x", 600)), t0)
	if c.Reachable || len(c.LastError) != 503 {
		t.Fatalf("unreachable check: reachable %v, error of %d bytes", c.Reachable, len(c.LastError))
	}
}
