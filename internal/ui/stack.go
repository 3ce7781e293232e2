package ui

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"github.com/purserhq/purser"
)

// stackRow is a cluster's stack as lists show it.
type stackRow struct {
	Cluster, Kind, Status, Author, Message string
	Revision, Services                     int
	Created                                relTime
	Drifted                                bool
	DriftChecked                           relTime
}

// stackRows reads every stack in one query, by cluster name.
func (s *Server) stackRows(r *http.Request) (map[string]stackRow, error) {
	out := map[string]stackRow{}
	if s.StackList == nil || !purser.ActorFromContext(r.Context()).Can(purser.ActionStackRead) {
		return out, nil
	}
	sums, err := s.StackList.StackSummaries(r.Context())
	for _, x := range sums {
		out[x.Cluster] = s.newStackRow(x)
	}
	return out, err
}

func (s *Server) newStackRow(x purser.StackSummary) stackRow {
	now := s.now()
	return stackRow{Cluster: x.Cluster, Kind: x.ClusterKind, Status: string(x.Status), Author: x.Author, Message: x.Message,
		Revision: x.Revision, Services: x.Services, Created: newRelTime(x.Created, now), Drifted: x.Drifted,
		DriftChecked: newRelTimePtr(x.DriftChecked, now)}
}

// stackListData is the stacks page's.
type stackListData struct{ Rows []stackRow }

func (d stackListData) content(page) templ.Component { return stacksPage(d) }

// stackList serves GET /stacks: every cluster's stack, in one query.
func (s *Server) stackList(w http.ResponseWriter, r *http.Request) {
	sums, err := s.StackList.StackSummaries(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := stackListData{}
	for _, x := range sums {
		d.Rows = append(d.Rows, s.newStackRow(x))
	}
	s.render(w, r, http.StatusOK, "stacks", "Stacks", d)
}

// serviceRow is one service, desired beside actual.
type serviceRow struct {
	Name, Repository, DesiredTag, ActualTag string
	DesiredCount, RunningCount              int
	Desired, Running                        bool
	State, WaitingFor                       string
}

func newServiceRows(st []purser.ServiceStatus) []serviceRow {
	out := make([]serviceRow, 0, len(st))
	for _, x := range st {
		img := x.DesiredImage
		if img == "" {
			img = x.ActualImage
		}
		repo, _ := purser.SplitImage(img)
		out = append(out, serviceRow{Name: x.Name, Repository: repo, DesiredTag: x.DesiredTag, ActualTag: x.ActualTag,
			DesiredCount: x.DesiredCount, RunningCount: x.RunningCount, Desired: x.DesiredImage != "", Running: x.Running,
			State: string(x.State), WaitingFor: strings.Join(x.WaitingFor, ", ")})
	}
	return out
}

// liveData is the part of a stack's page that follows a rollout: the
// current revision's status, the services and the drift.
type liveData struct {
	Cluster  string
	Revision revisionRow
	Services []serviceRow
	// Drift is the last scan's finding; nil when never scanned.
	Drift *driftView
	// Moving is set while something changes: the part asks again. Follow
	// counts how many more times it asks even when nothing moves yet (a
	// deploy's job has not started).
	Moving bool
	Follow int
	// The newest revisions (More older ones not shown), with rollback
	// buttons when Write.
	Revisions []revisionRow
	More      int
	Write     bool
	CSRF      string
}

// driftView is the last drift scan, as the stack's page shows it.
type driftView struct {
	Drifted  bool
	Checked  relTime
	Since    relTime
	Services []purser.ServicePlan
	Error    string
}

// revisionRow is one revision in a list.
type revisionRow struct {
	Number, RollbackOf, BlockedBy int
	Status, Author, Message       string
	Reason                        string
	Created                       relTime
	// Restorable: a rollback to it is allowed (not the current one, not
	// blocked, and once applied).
	Restorable bool
}

func (s *Server) newRevisionRow(r *purser.StackRevision, current int) revisionRow {
	return revisionRow{Number: r.Number, RollbackOf: r.RollbackOf, BlockedBy: r.BlockedBy, Status: string(r.Status), Author: r.Author,
		Message: r.Message, Reason: r.Reason, Created: newRelTime(r.Created, s.now()),
		Restorable: r.Number != current && r.CheckApplicable() == nil}
}

// live reads what liveData shows: a constant number of queries.
func (s *Server) live(r *http.Request, cluster string) (liveData, error) {
	ctx := r.Context()
	cur, actual, err := s.Stacks.StackState(ctx, cluster)
	if err != nil {
		return liveData{}, err
	}
	d := liveData{Cluster: cluster, Revision: s.newRevisionRow(cur, cur.Number), Services: newServiceRows(purser.ServiceStatuses(cur, actual)),
		Write: purser.ActorFromContext(ctx).Can(purser.ActionStackWrite)}
	if f, err := strconv.Atoi(r.URL.Query().Get("follow")); err == nil {
		d.Follow = min(max(f, 0), 60)
	}
	if sess := sessionFrom(ctx); sess != nil {
		d.CSRF = sess.CSRFToken
	}
	d.Moving = cur.Status == purser.RevisionPending || cur.Status == purser.RevisionApplying
	for _, sv := range d.Services {
		d.Moving = d.Moving || (sv.State == string(purser.ServiceProgressing) && cur.Status != purser.RevisionPending)
	}
	dr, err := s.Stacks.Drift(ctx, cluster)
	switch purser.ErrorCode(err) {
	case "":
		now := s.now()
		d.Drift = &driftView{Drifted: dr.Drifted, Checked: newRelTime(dr.CheckedAt, now), Since: newRelTimePtr(dr.Since, now),
			Services: dr.Services, Error: dr.Error}
	case purser.ENOTFOUND:
	default:
		return d, err
	}
	revs, pi, err := s.Stacks.StackRevisions(ctx, cluster, purser.Query{Page: 1, MaxResults: 20})
	if err != nil {
		return d, err
	}
	d.More = max(pi.Total-len(revs), 0)
	for _, x := range revs {
		d.Revisions = append(d.Revisions, s.newRevisionRow(x, cur.Number))
	}
	return d, nil
}

// stackDetailData is a stack's page's.
type stackDetailData struct{ Live liveData }

func (d stackDetailData) content(p page) templ.Component { return stackPage(p, d) }

// stackDetail serves GET /stacks/{cluster}: the services desired beside
// actual, drift, and the newest revisions with a rollback button each.
func (s *Server) stackDetail(w http.ResponseWriter, r *http.Request) {
	live, err := s.live(r, r.PathValue("cluster"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "stacks", "Stack of "+live.Cluster, stackDetailData{Live: live})
}

// stackLive serves GET /stacks/{cluster}/live: the live part alone, which
// htmx swaps in while a rollout moves.
func (s *Server) stackLive(w http.ResponseWriter, r *http.Request) {
	live, err := s.live(r, r.PathValue("cluster"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.write(w, r, http.StatusOK, stackLivePart(live))
}

// deploy serves POST /stacks/{cluster}/deploy: apply the current
// revision again (which corrects drift), or start a held one.
func (s *Server) deploy(w http.ResponseWriter, r *http.Request) {
	cluster := r.PathValue("cluster")
	if _, err := s.Stacks.DeployStack(r.Context(), cluster); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, stackURL(cluster)+"?follow=30")
}

// rollback serves POST /stacks/{cluster}/rollback: a revision equal to
// an earlier one, made against the current revision the page showed.
func (s *Server) rollback(w http.ResponseWriter, r *http.Request) {
	cluster := r.PathValue("cluster")
	n, err := parseNumber("revision", r.PostFormValue("revision"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var ifMatch *int
	if v := r.PostFormValue("if_match"); v != "" {
		m, err := parseNumber("if_match", v)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		ifMatch = &m
	}
	if _, err := s.Stacks.RollbackStack(r.Context(), cluster, n, ifMatch); err != nil {
		s.fail(w, r, stale(err))
		return
	}
	redirect(w, r, stackURL(cluster))
}
