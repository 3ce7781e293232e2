package purser

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ImageTag is one tag of an image repository, as its registry reports it.
// Pushed is when the registry received it (ECR), or, for registries that
// do not say, when the image was built (its config's created time); zero
// when neither is known. Digest is the manifest digest the tag points to.
type ImageTag struct {
	Name   string
	Pushed time.Time
	Digest string
}

// The number of tags a tag listing returns by default, and at most.
const (
	DefaultTagLimit = 10
	MaxTagLimit     = 100
)

// TagQuery asks for the newest tags of an image's repository.
type TagQuery struct {
	// Cluster is the cluster whose stack names the image: an ECR image is
	// read with an ecs cluster's credentials.
	Cluster string
	// Image is a reference, with or without its tag or digest.
	Image string
	// Limit is how many tags to return, 1 to MaxTagLimit.
	Limit int
}

// TagList is a repository's newest tags, newest first.
type TagList struct {
	Repository string
	Tags       []ImageTag
	// Cached reports whether the answer came from the cache rather than
	// from the registry.
	Cached bool
	// Fetched is when the registry gave the answer.
	Fetched time.Time
	// Warning, when set, says why a cached answer older than its TTL was
	// served: the registry failed.
	Warning string
}

// TagLister lists image tags from the image's own registry.
type TagLister interface {
	// ImageTags returns the newest tags of q.Image's repository: EINVALID
	// for a bad limit or image reference, a RegistryError when the
	// registry failed and nothing usable was cached.
	ImageTags(ctx context.Context, q TagQuery) (*TagList, error)
	// InvalidateTags forgets what is known of a repository's tags (a
	// repository as SplitImage returns it), so that the next listing asks
	// the registry again.
	InvalidateTags(ctx context.Context, repository string)
}

// RegistryError is a registry's failure to answer: the API answers it
// 502, naming the registry and the cause.
type RegistryError struct {
	Registry string // host, e.g. ghcr.io
	Err      error
}

// Error implements the error interface.
func (e *RegistryError) Error() string {
	return fmt.Sprintf("registry %s: %v", e.Registry, e.Err)
}

// Unwrap returns the cause.
func (e *RegistryError) Unwrap() error { return e.Err }

// CheckTagLimit refuses a limit outside 1..MaxTagLimit.
func CheckTagLimit(limit int) error {
	switch {
	case limit < 1:
		return Invalid(FieldError{"limit", "minimum", "must be at least 1"})
	case limit > MaxTagLimit:
		return Invalid(FieldError{"limit", "maximum", fmt.Sprintf("must be at most %d", MaxTagLimit)})
	}
	return nil
}

// SortTags orders tags newest first; tags pushed at the same time (or
// both unknown) by name. Unknown times come last.
func SortTags(tags []ImageTag) {
	slices.SortFunc(tags, func(a, b ImageTag) int {
		if c := b.Pushed.Compare(a.Pushed); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// NewestTags returns the first limit of tags sorted by SortTags, in a new
// slice: tags itself is left as it was.
func NewestTags(tags []ImageTag, limit int) []ImageTag {
	out := slices.Clone(tags)
	SortTags(out)
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// ImageRegistry returns the registry host of an image reference, as
// docker does: the first path segment when it looks like a host (has a
// '.' or a ':', or is localhost), else Docker Hub.
func ImageRegistry(image string) string {
	first, _, found := strings.Cut(image, "/")
	if found && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return first
	}
	return "docker.io"
}
