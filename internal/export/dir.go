package export

import (
	"context"
	"crypto/md5"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// attrsExt names an object's sidecar: <key>.attrs holds its content type
// and metadata.
const attrsExt = ".attrs"

// attrs is the sidecar's JSON, as gocloud.dev's fileblob wrote it (and
// reads it: a directory written by either is read by both).
type attrs struct {
	CacheControl       string            `json:"user.cache_control"`
	ContentDisposition string            `json:"user.content_disposition"`
	ContentEncoding    string            `json:"user.content_encoding"`
	ContentLanguage    string            `json:"user.content_language"`
	ContentType        string            `json:"user.content_type"`
	Metadata           map[string]string `json:"user.metadata"`
	MD5                []byte            `json:"md5"`
}

// dirStore keeps each object as a file named after its key in a
// directory, with its sidecar beside it.
type dirStore string

// put writes the object beside its final name and renames it into place
// (a reader sees the old file or the new one, whatever filesystem holds
// the directory), after its sidecar.
func (d dirStore) put(ctx context.Context, key string, body []byte, contentType string, meta map[string]string) error {
	path := filepath.Join(string(d), key)
	tmp := path + "." + strconv.FormatInt(time.Now().UnixNano(), 10) + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp) }() // gone once renamed
	_, err = f.Write(body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	sum := md5.Sum(body)
	side, err := json.Marshal(attrs{ContentType: contentType, Metadata: meta, MD5: sum[:]})
	if err != nil {
		return err
	}
	if err := os.WriteFile(path+attrsExt, append(side, '\n'), 0o666); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(path + attrsExt)
		return err
	}
	return nil
}

// get reads the object and its sidecar's metadata (none without one).
func (d dirStore) get(_ context.Context, key string) ([]byte, map[string]string, error) {
	path := filepath.Join(string(d), key)
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	side, err := os.ReadFile(path + attrsExt)
	if errors.Is(err, os.ErrNotExist) {
		return body, map[string]string{}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var a attrs
	if err := json.Unmarshal(side, &a); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path+attrsExt, err)
	}
	if a.Metadata == nil {
		a.Metadata = map[string]string{}
	}
	return body, a.Metadata, nil
}

// list returns the objects' names that start with prefix (sidecars and
// files being written left out).
func (d dirStore) list(_ context.Context, prefix string) ([]string, error) {
	entries, err := os.ReadDir(string(d))
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasPrefix(n, prefix) && !strings.HasSuffix(n, attrsExt) && !strings.HasSuffix(n, ".tmp") {
			keys = append(keys, n)
		}
	}
	return keys, nil
}

// remove deletes the object and its sidecar.
func (d dirStore) remove(_ context.Context, key string) error {
	path := filepath.Join(string(d), key)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Remove(path + attrsExt); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
