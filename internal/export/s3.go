package export

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// s3Store keeps each object under prefix+key in an S3 bucket.
type s3Store struct {
	client *s3.Client
	bucket string
	prefix string // "" or ending in "/"
}

// put writes the object in one PutObject. Metadata keys and values are
// escaped as gocloud.dev's s3blob escaped them (S3 carries metadata in
// HTTP headers, ASCII only), so that objects it wrote read the same.
func (s *s3Store) put(ctx context.Context, key string, body []byte, contentType string, meta map[string]string) error {
	md := make(map[string]string, len(meta))
	for k, v := range meta {
		md[escapeMetaKey(k)] = url.PathEscape(v)
	}
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key),
		Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))),
		ContentType: aws.String(contentType), Metadata: md,
	})
	return err
}

// get reads the object and its metadata in one GetObject.
func (s *s3Store) get(ctx context.Context, key string) ([]byte, map[string]string, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key)})
	if err != nil {
		return nil, nil, err
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, nil, err
	}
	md := make(map[string]string, len(out.Metadata))
	for k, v := range out.Metadata {
		md[unescape(k)] = unescape(v)
	}
	return body, md, nil
}

// list returns the keys under the store's prefix that start with prefix,
// without the store's prefix.
func (s *s3Store) list(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(s.prefix + prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Contents {
			if k := strings.TrimPrefix(aws.ToString(o.Key), s.prefix); !strings.Contains(k, "/") {
				keys = append(keys, k)
			}
		}
	}
	return keys, nil
}

// remove deletes the object (S3 answers a missing one with success).
func (s *s3Store) remove(ctx context.Context, key string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key)})
	return err
}

// escapeMetaKey is s3blob's key escaping: path escaping, then '@', ':'
// and '=' as __0x40__ and the like.
func escapeMetaKey(k string) string {
	k = url.PathEscape(k)
	var b strings.Builder
	for _, r := range k {
		if r == '@' || r == ':' || r == '=' {
			fmt.Fprintf(&b, "__0x%x__", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// unescape reverses the path escaping of a key or value, and the
// __0x..__ escapes of a key; anything else is kept as S3 gave it.
func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	for _, r := range []rune{'@', ':', '='} {
		s = strings.ReplaceAll(s, fmt.Sprintf("__0x%x__", r), string(r))
	}
	return s
}
