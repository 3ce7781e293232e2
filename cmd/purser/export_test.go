package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/purserhq/purser/client"
)

// TestStackExportEndToEnd: once the reconciler has applied a revision,
// the server writes data_dir/stacks/<cluster> with the
// stackfile as JSON, and GET of the revision says where.
func TestStackExportEndToEnd(t *testing.T) { eachStore(t, testStackExportEndToEnd) }

func testStackExportEndToEnd(t *testing.T, env ...string) {
	url, token := server(t, append(env, "PURSER_SIM_ROLLOUT_TIME", "-1s")...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin := client.New(url, token)
	if _, err := admin.CreateCluster(ctx, client.ClusterCreate{Name: "prod", Kind: "sim"}); err != nil {
		t.Fatal(err)
	}
	const stack = `{"defaults":{"memory":256},"services":[{"web":{"image":"nginx:1.27","desired_count":2}}]}`
	// The reconciler applies revision 1 on sim, which enqueues its export.
	if _, err := admin.ApplyStack(ctx, "prod", []byte(stack), client.ApplyOptions{Message: "first"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig("", os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(cfg.DataDir, "stacks", "prod")
	var rev struct {
		Export struct {
			Status, URL string
		} `json:"export"`
	}
	for {
		if err := admin.Do(ctx, "GET", "/api/v1/clusters/prod/revisions/1", nil, &rev); err != nil {
			t.Fatal(err)
		}
		if rev.Export.Status == "exported" {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("revision 1 was never exported: %+v", rev.Export)
		case <-time.After(50 * time.Millisecond):
		}
	}
	abs, _ := filepath.Abs(path)
	if rev.Export.URL != "file://"+abs {
		t.Fatalf("exported to %s, want file://%s", rev.Export.URL, abs)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no export file named after the cluster: %v", err)
	}
	var got, want any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("export file: %v\n%s", err, data)
	}
	_ = json.Unmarshal([]byte(stack), &want)
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("export file differs from the stackfile (-want +got):\n%s", d)
	}
}

// TestStackExportConfig: the server says where exports go, without the
// S3 secret, and refuses to start with an S3 bucket and no credentials;
// a store it cannot reach does not keep it from starting.
func TestStackExportConfig(t *testing.T) {
	dir := t.TempDir()
	s3 := []string{"PURSER_DATA_DIR", dir, "PURSER_LOG_LEVEL", "info",
		"PURSER_STACKS_EXPORT_URL", "s3://stacks?endpoint=http://127.0.0.1:1&use_path_style=true",
		"PURSER_STACKS_EXPORT_ACCESS_KEY_ID", "AKIDEXAMPLE", "PURSER_STACKS_EXPORT_SECRET_ACCESS_KEY", "hunter-s3-secret"}
	code, errOut := startServer(t, s3...)
	if code != 0 || !strings.Contains(errOut, "applied stack revisions are exported") || !strings.Contains(errOut, "s3://stacks") ||
		strings.Contains(errOut, "hunter-s3-secret") {
		t.Fatalf("start exporting to S3: exit %d\n%s", code, errOut)
	}
	if code, out, errOut := cli(t, "server", "--print-config"); code != 0 || !strings.Contains(out, "export_url: s3://stacks") || strings.Contains(out, "hunter-s3-secret") {
		t.Fatalf("--print-config: exit %d %s\n%s", code, errOut, out)
	}
	code, errOut = startServer(t, "PURSER_STACKS_EXPORT_ACCESS_KEY_ID", "", "PURSER_STACKS_EXPORT_SECRET_ACCESS_KEY", "")
	if code == 0 || !strings.Contains(errOut, "stacks.export_url") || !strings.Contains(errOut, "credentials") {
		t.Fatalf("S3 without credentials: exit %d, %q", code, errOut)
	}
	code, errOut = startServer(t, "PURSER_STACKS_EXPORT_URL", "", "PURSER_LOG_LEVEL", "info")
	if want := "file://" + filepath.Join(dir, "stacks"); code != 0 || !strings.Contains(errOut, want) {
		t.Fatalf("default export: exit %d, want %s in the log:\n%s", code, want, errOut)
	}
}
