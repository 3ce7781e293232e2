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
