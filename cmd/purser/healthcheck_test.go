package main

import (
	"strings"
	"testing"
)

// TestHealthcheck: the image's HEALTHCHECK command exits 0 against a
// server that answers /healthz, and non-zero, saying why, where none does.
func TestHealthcheck(t *testing.T) {
	url, _ := server(t)
	if code, out, errOut := cli(t, "healthcheck", "--url", url+"/healthz"); code != 0 || strings.TrimSpace(out) != "ok" {
		t.Fatalf("healthcheck of a running server: %d %q %q", code, out, errOut)
	}
	t.Setenv("PURSER_LISTEN", strings.TrimPrefix(url, "http://"))
	if code, _, errOut := cli(t, "healthcheck"); code != 0 {
		t.Fatalf("healthcheck at the configured listen address: %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, "healthcheck", "--url", url+"/nope"); code == 0 || !strings.Contains(errOut, "404") {
		t.Fatalf("healthcheck of a 404: %d %q", code, errOut)
	}
	t.Setenv("PURSER_LISTEN", "0.0.0.0:1")
	if code, _, errOut := cli(t, "healthcheck"); code == 0 || !strings.Contains(errOut, "127.0.0.1:1") {
		t.Fatalf("healthcheck with nothing listening: %d %q", code, errOut)
	}
}
