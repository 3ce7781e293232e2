package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// ImageTag is one tag of a service's image, from the image's registry.
type ImageTag struct {
	Name   string     `json:"name"`
	Pushed *time.Time `json:"pushed,omitempty" doc:"When the registry received the tag (ECR), or, for OCI registries, which do not say, when the image was built (its config's created time); absent when unknown."`
	Digest string     `json:"digest,omitempty" doc:"The manifest digest the tag points to; absent when it could not be read."`
}

// ImageTagList is the newest tags of a service's image, newest first, and
// whether the answer came from Purser's cache.
type ImageTagList struct {
	Items      []ImageTag      `json:"_items"`
	Meta       ListMeta        `json:"_meta"`
	Links      map[string]Link `json:"_links"`
	Repository string          `json:"repository" doc:"The image repository listed: the service's image without its tag."`
	Cache      bool            `json:"cache" doc:"Whether the answer came from the cache (X-Cache: HIT) rather than from the registry (MISS)."`
	Warning    string          `json:"warning,omitempty" doc:"Why an answer older than the cache's TTL was served: the registry failed."`
}

// StackServiceTags lists the newest tags (limit: 0 is the server's
// default, 10) of a service's image, from its registry.
func (c *Client) StackServiceTags(ctx context.Context, cluster, service string, limit int) (*ImageTagList, error) {
	path := stackPath(cluster, "/services/"+url.PathEscape(service)+"/tags")
	if limit > 0 {
		path += "?limit=" + strconv.Itoa(limit)
	}
	var out ImageTagList
	return &out, c.Do(ctx, http.MethodGet, path, nil, &out)
}
