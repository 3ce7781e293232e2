package purser

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNewestTags(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	tags := []ImageTag{
		{Name: "v1", Pushed: t0},
		{Name: "unknown"},
		{Name: "v3", Pushed: t0.Add(2 * time.Hour)},
		{Name: "b-same", Pushed: t0.Add(time.Hour)},
		{Name: "a-same", Pushed: t0.Add(time.Hour)},
	}
	tests := []struct {
		name  string
		limit int
		want  []string
	}{
		{"NewestFirstTiesByNameUnknownLast", 10, []string{"v3", "a-same", "b-same", "v1", "unknown"}},
		{"Limited", 2, []string{"v3", "a-same"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, tg := range NewestTags(tags, tt.limit) {
				got = append(got, tg.Name)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
			if tags[0].Name != "v1" {
				t.Error("NewestTags reordered its argument")
			}
		})
	}
}

func TestCheckTagLimit(t *testing.T) {
	for _, tt := range []struct {
		limit int
		rule  string
	}{{0, "minimum"}, {1, ""}, {100, ""}, {101, "maximum"}} {
		err := CheckTagLimit(tt.limit)
		var pe *Error
		switch {
		case tt.rule == "" && err != nil:
			t.Errorf("limit %d: %v", tt.limit, err)
		case tt.rule != "" && (!errors.As(err, &pe) || pe.Fields[0].Field != "limit" || pe.Fields[0].Rule != tt.rule):
			t.Errorf("limit %d: %v, want EINVALID limit %s", tt.limit, err, tt.rule)
		}
	}
}

func TestImageRegistry(t *testing.T) {
	for image, want := range map[string]string{
		"nginx:1.27":         "docker.io",
		"library/nginx":      "docker.io",
		"ghcr.io/o/app:v1":   "ghcr.io",
		"127.0.0.1:5000/app": "127.0.0.1:5000",
		"localhost/app":      "localhost",
		"1234.dkr.ecr.us-east-1.amazonaws.com/r:xxx": "1234.dkr.ecr.us-east-1.amazonaws.com",
	} {
		if got := ImageRegistry(image); got != want {
			t.Errorf("ImageRegistry(%q) = %q, want %q", image, got, want)
		}
	}
}
