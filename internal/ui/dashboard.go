package ui

import (
	"net/http"
	"time"

	"github.com/purserhq/purser"
)

// expiringWithin is how close to expiry an environment is "expiring soon".
const expiringWithin = 48 * time.Hour

// dashboardData is the dashboard's.
type dashboardData struct {
	Environments   []requestRow
	Expiring       []requestRow
	PendingReviews int
	Unread         int
}

func eq(field string, v any) purser.Cond { return purser.Cond{Field: field, Op: "$eq", Value: v} }

// dashboard serves GET / (browsers) and GET /dashboard: the user's
// environments, those expiring soon, reviews waiting (reviewers) and the
// unread inbox count, in four queries whatever the numbers.
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), user(r)
	envs, _, err := s.Requests.FindRequests(ctx, purser.Query{
		Where: []purser.Cond{eq("requested_by", u.ID), eq("status", string(purser.StatusDeployed))},
		Sort:  []purser.Sort{{Field: "expires_by"}}, Page: 1, MaxResults: 50, SkipTotal: true})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := dashboardData{}
	soon := s.now().Add(expiringWithin)
	for _, e := range envs {
		row := newRequestRow(e, nil)
		d.Environments = append(d.Environments, row)
		if e.ExpiresBy.Before(soon) {
			d.Expiring = append(d.Expiring, row)
		}
	}
	if purser.ActorFromContext(ctx).Can(purser.ActionRequestReview) {
		_, pi, err := s.Requests.FindRequests(ctx, purser.Query{Where: []purser.Cond{eq("status", string(purser.StatusRequested))}, Page: 1, MaxResults: 1})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.PendingReviews = pi.Total
	}
	_, pi, err := s.Notifications.FindNotifications(ctx, purser.Query{Where: []purser.Cond{eq("channel", "inbox")}, Page: 1, MaxResults: 1}, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Unread = pi.Total
	s.render(w, r, http.StatusOK, "dashboard", "Dashboard", d)
}
