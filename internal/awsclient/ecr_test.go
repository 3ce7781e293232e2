package awsclient

import "testing"

func TestSplitImage(t *testing.T) {
	for _, c := range []struct{ image, repo, ref string }{
		{"nginx", "nginx", "latest"},
		{"nginx:1.27", "nginx", "1.27"},
		{"localhost:5000/web", "localhost:5000/web", "latest"},
		{"localhost:5000/web:v2", "localhost:5000/web", "v2"},
		{"123456789012.dkr.ecr.us-east-1.amazonaws.com/web@sha256:abc", "123456789012.dkr.ecr.us-east-1.amazonaws.com/web", "sha256:abc"},
	} {
		if repo, ref := SplitImage(c.image); repo != c.repo || ref != c.ref {
			t.Errorf("SplitImage(%q) = %q, %q; want %q, %q", c.image, repo, ref, c.repo, c.ref)
		}
	}
	if r, ok := ParseECR("123456789012.dkr.ecr.eu-west-3.amazonaws.com/team/web"); !ok || r != (ECRRepository{"123456789012", "eu-west-3", "team/web"}) {
		t.Errorf("ParseECR: %+v %v", r, ok)
	}
	if _, ok := ParseECR("xxx.dkr.ecr.us-east-1.amazonaws.com/web"); ok {
		t.Error("ParseECR took an account that is not 12 digits")
	}
}
