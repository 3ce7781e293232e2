package stackfile_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/purserhq/purser/internal/stackfile"
)

func TestLines(t *testing.T) {
	text := "defaults: {}\nservices:\n  - web:\n      image: nginx\n      ports:\n        - \"80:80\"\n        - http\n  - user-service:\n      image: x\n      desired_count: many\n"
	got := stackfile.Lines([]byte(text), []string{"services[0].web.ports[1]", "services[1].user-service.desired_count",
		"services[1].user-service.cpu", "services[5]", "stackfile"})
	want := map[string]int{"services[0].web.ports[1]": 7, "services[1].user-service.desired_count": 10,
		"services[1].user-service.cpu": 8, "services[5]": 2, "stackfile": 1}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("lines (-want +got):\n%s", d)
	}
	if got := stackfile.Lines([]byte("services: [\n"), []string{"services"}); got["services"] != 0 {
		t.Fatalf("text that does not parse: %v", got)
	}
}
