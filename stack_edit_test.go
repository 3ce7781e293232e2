package purser

import (
	"testing"
)

func strp(s string) *string { return &s }

func TestSplitImage(t *testing.T) {
	for _, tt := range []struct{ in, repo, tag string }{
		{"xxx.dkr.ecr.us-east-1.amazonaws.com/user-service:latest", "xxx.dkr.ecr.us-east-1.amazonaws.com/user-service", "latest"},
		{"registry:5000/team/app", "registry:5000/team/app", ""},
		{"registry:5000/team/app:1.2.3", "registry:5000/team/app", "1.2.3"},
		{"nginx", "nginx", ""},
		{"nginx:1.27", "nginx", "1.27"},
		{"app@sha256:abcd", "app", ""},
		{"app:v1@sha256:abcd", "app", "v1"},
	} {
		if repo, tag := SplitImage(tt.in); repo != tt.repo || tag != tt.tag {
			t.Errorf("SplitImage(%q) = %q, %q; want %q, %q", tt.in, repo, tag, tt.repo, tt.tag)
		}
	}
}

func TestStackfileUpdateService(t *testing.T) {
	tests := []struct {
		name    string
		service string
		upd     ServiceUpdate
		image   string
		count   int
		code    string
	}{
		{"OKTag", "web", ServiceUpdate{ImageTag: strp("1.2.3_rc-1")}, "r/web:1.2.3_rc-1", 1, ""},
		{"OKCountZero", "web", ServiceUpdate{DesiredCount: intp(0)}, "r/web:1", 0, ""},
		{"OKBoth", "worker", ServiceUpdate{ImageTag: strp("v2"), DesiredCount: intp(4)}, "r/worker:v2", 4, ""},
		{"ErrNoService", "db", ServiceUpdate{DesiredCount: intp(1)}, "", 0, ENOTFOUND},
		{"ErrTag", "web", ServiceUpdate{ImageTag: strp("v1:latest")}, "", 0, EINVALID},
		{"ErrNegativeCount", "web", ServiceUpdate{DesiredCount: intp(-1)}, "", 0, EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validStack()
			out, err := s.UpdateService(tt.service, tt.upd)
			if ErrorCode(err) != tt.code {
				t.Fatalf("err %v, want %q", err, tt.code)
			}
			if err != nil {
				return
			}
			sv := out.Service(tt.service)
			if sv.Image != tt.image || sv.Count() != tt.count {
				t.Fatalf("image %s count %d, want %s %d", sv.Image, sv.Count(), tt.image, tt.count)
			}
			if orig := validStack().Service(tt.service); s.Service(tt.service).Image != orig.Image || s.Service(tt.service).Count() != orig.Count() {
				t.Fatal("the original stackfile changed")
			}
			if err := out.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestStackfileRemoveService(t *testing.T) {
	s := validStack()
	out, err := s.RemoveService("worker")
	if err != nil || out.Service("worker") != nil || len(out.Services) != 2 || len(s.Services) != 3 {
		t.Fatalf("remove worker: %v, %d services left, original %d", err, len(out.Services), len(s.Services))
	}
	if _, err := s.RemoveService("users"); fieldsOf(err) != "services[0].web.depends_on[0]" {
		t.Fatalf("removing a service web depends on: %v", err)
	}
	if _, err := s.RemoveService("nope"); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("err %v", err)
	}
}
