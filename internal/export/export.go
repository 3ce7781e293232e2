// Package export writes clusters' applied stacks to a bucket: a directory
// (file://, the default, data_dir/stacks) or S3 and S3-compatible stores
// (s3://bucket, with endpoint, region and use_path_style for a store other
// than AWS). It implements purser.StackExporter, and purser.BackupBucket
// for scheduled backups (put, list, delete).
//
// It writes what gocloud.dev/blob's fileblob and s3blob wrote before it
// (the same files, sidecars and S3 metadata), without gocloud.dev: its
// retry package imports gRPC, whose golang.org/x/net/trace executes
// html/template, and a reachable template execution keeps every exported
// method of every type in the binary (bench/README.md, Footprint).
package export

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/purserhq/purser"
)

// Options are what a bucket URL does not carry: the S3 credentials, which
// come from the configuration only.
type Options struct {
	// AccessKeyID and SecretAccessKey sign S3 requests.
	AccessKeyID, SecretAccessKey string
	// DefaultCredentials, when no keys are given, takes credentials from
	// the AWS SDK's default chain (AWS_* environment variables, shared
	// files, an instance or task role): the operator asks for it
	// explicitly, so that a server never signs with credentials it
	// happened to find.
	DefaultCredentials bool
}

// WriteTimeout bounds one write, so that a hung store fails the attempt
// (the job retries it) rather than holding a worker until the job times out.
const WriteTimeout = time.Minute

// Bucket is where exports go.
type Bucket struct {
	b   store
	url string // shown: the URL without its query
}

// store is one kind of bucket: objects by key, each with its content type
// and metadata.
type store interface {
	put(ctx context.Context, key string, body []byte, contentType string, meta map[string]string) error
	get(ctx context.Context, key string) ([]byte, map[string]string, error)
	// list returns the keys that start with prefix, in no order.
	list(ctx context.Context, prefix string) ([]string, error)
	// remove deletes the object; one that is not there is no error.
	remove(ctx context.Context, key string) error
}

var (
	_ purser.StackExporter = (*Bucket)(nil)
	_ purser.BackupBucket  = (*Bucket)(nil)
)

// DirURL returns the file:// URL of dir, made absolute.
func DirURL(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), nil
}

// Open opens the bucket at rawURL: file:///abs/dir (created, private to
// the server, if missing) or s3://bucket[/prefix][?endpoint=URL&region=R&use_path_style=true].
// It does not contact the store: an unreachable one fails the writes,
// which are retried, not the server's start.
func Open(ctx context.Context, rawURL string, o Options) (*Bucket, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("export URL: %w", err)
	}
	if u.User != nil {
		return nil, errors.New("export URL: put no credentials in the URL; set the access key id and secret in the configuration")
	}
	shown := *u
	shown.RawQuery = ""
	var b store
	switch u.Scheme {
	case "file":
		b, err = openDir(u)
	case "s3":
		b, err = openS3(ctx, u, o)
	default:
		return nil, fmt.Errorf("export URL %s: the scheme must be file or s3", shown.String())
	}
	if err != nil {
		return nil, err
	}
	return &Bucket{b: b, url: strings.TrimSuffix(shown.String(), "/")}, nil
}

func openDir(u *url.URL) (store, error) {
	if len(u.Query()) > 0 {
		return nil, fmt.Errorf("export URL: a file:// URL takes no parameters (got %s)", u.RawQuery)
	}
	if u.Host != "" && u.Host != "localhost" || !strings.HasPrefix(u.Path, "/") {
		return nil, fmt.Errorf("export URL: a file:// URL names an absolute directory, as file:///var/lib/purser/stacks (got %s)", u.String())
	}
	dir := filepath.FromSlash(u.Path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("export directory %s: %w", u.Path, err)
	}
	return dirStore(dir), nil
}

func openS3(ctx context.Context, u *url.URL, o Options) (store, error) {
	q := u.Query()
	for k := range q {
		switch k {
		case "endpoint", "region", "use_path_style":
		default:
			return nil, fmt.Errorf("export URL: unknown parameter %q (s3:// takes endpoint, region and use_path_style)", k)
		}
	}
	if u.Host == "" {
		return nil, errors.New("export URL: s3:// needs a bucket name, as s3://my-bucket")
	}
	pathStyle := false
	if v := q.Get("use_path_style"); v != "" {
		var err error
		if pathStyle, err = strconv.ParseBool(v); err != nil {
			return nil, fmt.Errorf("export URL: use_path_style must be true or false (got %q)", v)
		}
	}
	region := q.Get("region")
	if region == "" {
		region = "us-east-1"
	}
	cfg := aws.Config{Region: region}
	switch {
	case o.AccessKeyID != "" || o.SecretAccessKey != "":
		if o.AccessKeyID == "" || o.SecretAccessKey == "" {
			return nil, errors.New("export: set both the S3 access key id and its secret access key")
		}
		cfg.Credentials = credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")
	case o.DefaultCredentials:
		var err error
		if cfg, err = awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region)); err != nil {
			return nil, fmt.Errorf("export: AWS default credentials: %w", err)
		}
	default:
		return nil, errors.New("export: an s3:// URL needs credentials: an access key id and secret access key, or the AWS default chain, asked for explicitly")
	}
	// Checksums only where S3 requires them: S3-compatible stores do not
	// all take the trailing checksums the SDK sends by default.
	cfg.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	cfg.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		if ep := q.Get("endpoint"); ep != "" {
			so.BaseEndpoint = aws.String(ep)
		}
		so.UsePathStyle = pathStyle
	})
	b := &s3Store{client: client, bucket: u.Host}
	if p := strings.Trim(u.Path, "/"); p != "" {
		b.prefix = p + "/"
	}
	return b, nil
}

// URL is the bucket's URL without its query, for logs and the revisions'
// export state.
func (b *Bucket) URL() string { return b.url }

// Write replaces doc's object (named after its cluster) with the
// stackfile as JSON, the revision, author and applied time as metadata,
// and returns the object's URL.
func (b *Bucket) Write(ctx context.Context, doc *purser.StackExport) (string, error) {
	body, err := doc.Body()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, WriteTimeout)
	defer cancel()
	if err := checkKey(doc.Key()); err != nil {
		return "", err
	}
	if err = b.b.put(ctx, doc.Key(), body, "application/json", doc.Metadata()); err != nil {
		return "", fmt.Errorf("write %s to %s: %w", doc.Key(), b.url, err)
	}
	return b.url + "/" + doc.Key(), nil
}

// Read returns the object of a cluster's stack, as written.
func (b *Bucket) Read(ctx context.Context, cluster string) ([]byte, map[string]string, error) {
	key := purser.StackExportKey(cluster)
	if err := checkKey(key); err != nil {
		return nil, nil, err
	}
	body, meta, err := b.b.get(ctx, key)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s from %s: %w", key, b.url, err)
	}
	return body, meta, nil
}

// PutObject writes body as the object key (backups: purser.BackupBucket).
func (b *Bucket) PutObject(ctx context.Context, key string, body []byte, contentType string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := b.b.put(ctx, key, body, contentType, nil); err != nil {
		return fmt.Errorf("write %s to %s: %w", key, b.url, err)
	}
	return nil
}

// ReadObject returns the object key as written, with its metadata.
func (b *Bucket) ReadObject(ctx context.Context, key string) ([]byte, map[string]string, error) {
	if err := checkKey(key); err != nil {
		return nil, nil, err
	}
	return b.b.get(ctx, key)
}

// ListObjects returns the keys that start with prefix, sorted.
func (b *Bucket) ListObjects(ctx context.Context, prefix string) ([]string, error) {
	keys, err := b.b.list(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", b.url, err)
	}
	sort.Strings(keys)
	return keys, nil
}

// DeleteObject removes the object key; one already gone is no error.
func (b *Bucket) DeleteObject(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := b.b.remove(ctx, key); err != nil {
		return fmt.Errorf("delete %s from %s: %w", key, b.url, err)
	}
	return nil
}

// Close releases the bucket: neither kind holds anything open.
func (b *Bucket) Close() error { return nil }

// checkKey refuses a key that is not a plain file name: keys are
// clusters' names, which never are; this keeps a write inside its
// directory or prefix without the escaping gocloud.dev applied.
func checkKey(key string) error {
	if key == "" || key == "." || key == ".." || strings.HasSuffix(key, attrsExt) ||
		strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == '/' || r == '\\' || r >= 0x7f }) {
		return fmt.Errorf("export: %q cannot name an object (a cluster's name can)", key)
	}
	return nil
}
