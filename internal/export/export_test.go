package export

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/awstest"
)

const stackJSON = `{"defaults":{"memory":512,"environment":[{"ENV":"prod"}]},"services":[{"web":{"image":"nginx:1.27","desired_count":2,"ports":["8080:8080"]}}]}`

func doc(t *testing.T, cluster string, n int, src string) *purser.StackExport {
	t.Helper()
	var sf purser.Stackfile
	if err := json.Unmarshal([]byte(src), &sf); err != nil {
		t.Fatal(err)
	}
	applied := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	return purser.NewStackExport(&purser.StackRevision{Cluster: cluster, Number: n, Author: "ops", Stackfile: &sf}, applied)
}

// checkObject reads the cluster's object back: its body is the stackfile
// as JSON, its metadata the revision.
func checkObject(t *testing.T, b *Bucket, cluster, src string, n int) {
	t.Helper()
	body, meta, err := b.Read(context.Background(), cluster)
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("the object is not JSON: %v\n%s", err, body)
	}
	_ = json.Unmarshal([]byte(src), &want)
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("object %s differs from the stackfile (-want +got):\n%s", cluster, d)
	}
	wantMeta := map[string]string{"revision": strconv.Itoa(n), "author": "ops", "applied": "2026-12-01T09:30:00Z"}
	if d := cmp.Diff(wantMeta, meta); d != "" {
		t.Fatalf("metadata (-want +got):\n%s", d)
	}
}

// TestDirectory: the default export writes data_dir/stacks/<cluster>, a
// file named after the cluster holding the stackfile as JSON, replaced by
// the next revision; the directory is made, private.
func TestDirectory(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data", "stacks")
	u, err := DirURL(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(context.Background(), u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("export directory: %v %v", fi, err)
	}
	where, err := b.Write(context.Background(), doc(t, "prod", 1, stackJSON))
	if err != nil {
		t.Fatal(err)
	}
	if where != "file://"+dir+"/prod" {
		t.Fatalf("written to %s", where)
	}
	checkObject(t, b, "prod", stackJSON, 1)
	raw, err := os.ReadFile(filepath.Join(dir, "prod"))
	if err != nil || !json.Valid(raw) {
		t.Fatalf("the file named after the cluster: %s (%v)", raw, err)
	}
	next := strings.Replace(stackJSON, "nginx:1.27", "nginx:1.28", 1)
	if _, err := b.Write(context.Background(), doc(t, "prod", 2, next)); err != nil {
		t.Fatal(err)
	}
	checkObject(t, b, "prod", next, 2)
}

// TestS3: against moto's S3, the object named after the cluster holds
// the stackfile as JSON and the revision as metadata, at the bucket's
// root or under the URL's prefix.
func TestS3(t *testing.T) {
	t.Parallel()
	endpoint := awstest.Start(t)
	ctx := context.Background()
	client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("stacks")}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	keys := Options{AccessKeyID: "test", SecretAccessKey: "test"}
	b, err := Open(ctx, "s3://stacks?endpoint="+endpoint+"&region=us-east-1&use_path_style=true", keys)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	where, err := b.Write(ctx, doc(t, "prod", 1, stackJSON))
	if err != nil || where != "s3://stacks/prod" {
		t.Fatalf("write: %s %v", where, err)
	}
	checkObject(t, b, "prod", stackJSON, 1)
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("stacks"), Key: aws.String("prod")})
	if err != nil {
		t.Fatalf("the seed's key (the cluster's name) is not there: %v", err)
	}
	out.Body.Close()
	if aws.ToString(out.ContentType) != "application/json" || out.Metadata["revision"] != "1" {
		t.Fatalf("object as S3 has it: %s %v", aws.ToString(out.ContentType), out.Metadata)
	}

	pb, err := Open(ctx, "s3://stacks/purser/?endpoint="+endpoint+"&use_path_style=true", keys)
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Close()
	if where, err := pb.Write(ctx, doc(t, "qa", 2, stackJSON)); err != nil || where != "s3://stacks/purser/qa" {
		t.Fatalf("write under a prefix: %s %v", where, err)
	}
	if _, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("stacks"), Key: aws.String("purser/qa")}); err != nil {
		t.Fatalf("object under the prefix: %v", err)
	}
}

// TestWriteFails: a store that refuses fails the write with an error
// that says where, and never shows the secret.
func TestWriteFails(t *testing.T) {
	t.Parallel()
	b, err := Open(context.Background(), "s3://stacks?endpoint=http://127.0.0.1:1&use_path_style=true", Options{AccessKeyID: "AKID", SecretAccessKey: "s3cr3t-value"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Write(context.Background(), doc(t, "prod", 1, stackJSON))
	if err == nil || !strings.Contains(err.Error(), "s3://stacks") || strings.Contains(err.Error(), "s3cr3t-value") {
		t.Fatalf("write to a refusing endpoint: %v", err)
	}
}

func TestOpenRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tt := range []struct{ url, want string }{
		{"gs://bucket", "scheme"},
		{"s3://bucket", "credentials"},
		{"s3://bucket?acl=public", "unknown parameter"},
		{"s3://bucket?use_path_style=maybe", "use_path_style"},
		{"s3://key:secret@bucket", "no credentials in the URL"},
		{"file://relative/dir", "absolute"},
	} {
		if _, err := Open(ctx, tt.url, Options{}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open(%s) = %v, want an error about %s", tt.url, err, tt.want)
		}
	}
	if _, err := Open(ctx, "s3://bucket", Options{AccessKeyID: "only-the-id"}); err == nil {
		t.Error("an access key id without its secret was accepted")
	}

}

// TestFormats: the sidecar is fileblob's JSON and S3 metadata is escaped as
// s3blob escaped it, so that exports written before read the same.
func TestFormats(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := dirStore(dir).put(context.Background(), "prod", []byte("{}"), "application/json", map[string]string{"author": "ops"}); err != nil {
		t.Fatal(err)
	}
	side, err := os.ReadFile(filepath.Join(dir, "prod.attrs"))
	want := `{"user.cache_control":"","user.content_disposition":"","user.content_encoding":"","user.content_language":"","user.content_type":"application/json","user.metadata":{"author":"ops"},"md5":"mZFLkyvTelC5g8XnyQrpOw=="}` + "\n"
	if err != nil || string(side) != want {
		t.Fatalf("sidecar %q (%v)", side, err)
	}
	for _, tt := range []struct{ in, key, value string }{
		{"author", "author", "author"},
		{"a=b:c@d", "a__0x3d__b__0x3a__c__0x40__d", "a=b:c@d"},
		{"José Ö/1", "Jos%C3%A9%20%C3%96%2F1", "Jos%C3%A9%20%C3%96%2F1"},
	} {
		if k := escapeMetaKey(tt.in); k != tt.key || unescape(k) != tt.in {
			t.Errorf("key %q: %q, back %q", tt.in, k, unescape(k))
		}
		if v := url.PathEscape(tt.in); v != tt.value || unescape(v) != tt.in {
			t.Errorf("value %q: %q, back %q", tt.in, v, unescape(v))
		}
	}
}
