package ui

import (
	"net/http"
	"strings"

	"github.com/a-h/templ"

	"github.com/purserhq/purser"
)

// clusterRow is a cluster as the list and its page show it.
type clusterRow struct {
	Name, Kind, Description, Server string
	Health, Version, LastError      string
	Checked                         relTime
	Stack                           *stackRow
}

// health names how the last check of c went.
func health(c *purser.Cluster) string {
	switch {
	case c.Simulated():
		return "simulated"
	case c.CheckedAt == nil:
		return "not checked"
	case c.Reachable:
		return "reachable"
	}
	return "unreachable"
}

func (s *Server) newClusterRow(c *purser.Cluster) clusterRow {
	return clusterRow{Name: c.Name, Kind: c.Kind, Description: c.Description, Server: c.Server, Health: health(c),
		Version: c.Version, LastError: c.LastError, Checked: newRelTimePtr(c.CheckedAt, s.now())}
}

// clusterListData is the clusters page's.
type clusterListData struct {
	Rows  []clusterRow
	Total int
	Write bool
}

func (d clusterListData) content(page) templ.Component { return clustersPage(d) }

// clusterList serves GET /clusters: every cluster with its health and its
// stack, in two queries whatever their number.
func (s *Server) clusterList(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	cs, pi, err := s.Clusters.FindClusters(ctx, purser.Query{Sort: []purser.Sort{{Field: "name"}}, Page: 1, MaxResults: purser.MaxMaxResults})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	stacks, err := s.stackRows(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := clusterListData{Total: pi.Total, Write: purser.ActorFromContext(ctx).Can(purser.ActionClusterWrite)}
	for _, c := range cs {
		row := s.newClusterRow(c)
		if st, ok := stacks[c.Name]; ok {
			row.Stack = &st
		}
		d.Rows = append(d.Rows, row)
	}
	s.render(w, r, http.StatusOK, "clusters", "Clusters", d)
}

// clusterDetailData is a cluster's page's.
type clusterDetailData struct {
	Cluster    clusterRow
	Deployers  string
	Namespace  string
	DriftMode  string
	Healthy    string
	Credential string
	Write      bool
}

func (d clusterDetailData) content(p page) templ.Component { return clusterPage(p, d) }

// clusterDetail serves GET /clusters/{name}.
func (s *Server) clusterDetail(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, err := s.Clusters.FindClusterByName(ctx, r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := clusterDetailData{Cluster: s.newClusterRow(c), Deployers: strings.Join(c.Deployers, ", "), Namespace: c.Namespace(),
		DriftMode: string(c.Drift()), Healthy: c.HealthyDeadline().String(), Credential: c.CredentialKind(),
		Write: purser.ActorFromContext(ctx).Can(purser.ActionClusterWrite)}
	if s.Stacks != nil {
		cur, err := s.Stacks.CurrentRevision(ctx, c.Name)
		switch purser.ErrorCode(err) {
		case "":
			st := stackRow{Cluster: c.Name, Kind: c.Kind, Revision: cur.Number, Status: string(cur.Status), Services: len(cur.Normalized.Services),
				Author: cur.Author, Created: newRelTime(cur.Created, s.now())}
			d.Cluster.Stack = &st
		case purser.ENOTFOUND, purser.EFORBIDDEN:
		default:
			s.fail(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "clusters", "Cluster "+c.Name, d)
}

// checkCluster serves POST /clusters/{name}/check: probe it now.
func (s *Server) checkCluster(w http.ResponseWriter, r *http.Request) {
	c, err := s.Clusters.CheckCluster(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, clusterURL(c.Name))
}
