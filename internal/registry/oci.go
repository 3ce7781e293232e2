package registry

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/purserhq/purser"
)

// MaxInspected is how many tags of an OCI repository are inspected for
// their time and digest: the last ones the registry lists (registries list
// tags in lexical order, where versions and dates usually grow). The
// distribution API has no push time, so each inspected tag costs two
// requests (its manifest and its config); the newest tags of a repository
// with more are among these when its tags sort as they are made.
const MaxInspected = 200

// Inspectors is how many tags of one repository are inspected at once.
const Inspectors = 8

// ociRepository parses repo. Plain HTTP is allowed only for a registry on
// the loopback interface (a local registry, or a test's).
func ociRepository(repo string) (name.Repository, error) {
	var opts []name.Option
	if loopback(purser.ImageRegistry(repo)) {
		opts = append(opts, name.Insecure)
	}
	r, err := name.NewRepository(repo, opts...)
	if err != nil {
		return name.Repository{}, purser.Invalid(purser.FieldError{Field: "image", Rule: "format", Message: "is not an image reference: " + err.Error()})
	}
	return r, nil
}

// loopback reports whether a registry host[:port] is on the loopback
// interface.
func loopback(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ociTags lists repo's tags, each with its manifest digest and its
// config's created time.
func (s *Source) ociTags(ctx context.Context, repo name.Repository) ([]purser.ImageTag, error) {
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuth(authn.Anonymous), remote.WithTransport(httpsOnly{s.transport()})}
	names, err := remote.List(repo, opts...)
	if err != nil {
		return nil, err
	}
	if len(names) > MaxInspected {
		names = names[len(names)-MaxInspected:]
	}
	tags := make([]purser.ImageTag, len(names))
	errs := make([]error, len(names))
	sem := make(chan struct{}, Inspectors)
	var wg sync.WaitGroup
	for i, n := range names {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			tags[i], errs[i] = inspect(repo.Tag(n), opts)
		})
	}
	wg.Wait()
	// A tag that cannot be read (deleted meanwhile, an unknown media
	// type) is listed without time or digest; only a repository none of
	// whose tags can be read is a failure.
	if len(names) > 0 {
		failed := 0
		for _, err := range errs {
			if err != nil {
				failed++
			}
		}
		if failed == len(names) {
			return nil, fmt.Errorf("read tag %s: %w", names[0], errs[0])
		}
	}
	return tags, nil
}

// inspect reads one tag's digest and created time (of the linux/amd64
// image of an index).
func inspect(ref name.Tag, opts []remote.Option) (purser.ImageTag, error) {
	t := purser.ImageTag{Name: ref.TagStr()}
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return t, err
	}
	t.Digest = desc.Digest.String()
	img, err := desc.Image()
	if err != nil {
		return t, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return t, err
	}
	t.Pushed = cf.Created.UTC()
	return t, nil
}

func (s *Source) transport() http.RoundTripper {
	if s.Transport != nil {
		return s.Transport
	}
	return http.DefaultTransport
}

// httpsOnly refuses plain HTTP but to the loopback interface:
// go-containerregistry would speak HTTP to private and .local registries
// of its own accord.
type httpsOnly struct{ http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (h httpsOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" && !loopback(req.URL.Host) {
		return nil, fmt.Errorf("plain HTTP to %s refused: registries are reached over HTTPS", req.URL.Host)
	}
	return h.RoundTripper.RoundTrip(req)
}
