package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser"
)

// apiIndex is the document at BasePath, where every collection's
// _links.parent points: the collections, each with its link.
type apiIndex struct {
	Name    string          `json:"name"`
	Version string          `json:"version"`
	Links   map[string]link `json:"_links" doc:"self, parent (the server's home), and one link per collection, named after it."`
}

// registerIndex serves GET BasePath (and so AliasPath): the collections the
// server has, in the order a newcomer meets them.
func (s *Server) registerIndex() {
	names := []string{"me", "users", "roles", "tokens"}
	if s.Templates != nil {
		names = append(names, "templates", "provisionRequests", "extensionRequests", "quotas", "notifications", "events")
	}
	if s.Clusters != nil {
		names = append(names, "clusters")
	}
	if s.Hosts != nil {
		names = append(names, "hosts", "pools", "joinTokens")
	}
	o := op(http.MethodGet, "", "get-index", "index", "The API's index: a link to every collection")
	o.Security = nil // the index names routes, not data: anyone may read it
	o.Errors = []int{http.StatusInternalServerError}
	huma.Register(s.api, o, func(ctx context.Context, _ *struct{}) (*struct{ Body apiIndex }, error) {
		out := apiIndex{Name: "purser", Version: purser.Version, Links: map[string]link{
			"self":   {Href: BasePath, Title: "index"},
			"parent": {Href: "/", Title: "home"},
		}}
		for _, n := range names {
			out.Links[n] = link{Href: BasePath + "/" + n, Title: n}
		}
		return &struct{ Body apiIndex }{out}, nil
	})
}
