package ui

import (
	"context"
	"fmt"
	"math"
	"net/http"

	"github.com/purserhq/purser"
)

// fitBar is one quota dimension drawn as an SVG bar: what is used, what
// the request asks, and the limit, in pixels of a barWidth-wide bar.
type fitBar struct {
	Label, Text                   string
	UsedW, AskedX, AskedW, LimitX int
	Limited, Over                 bool
}

const barWidth = 240

// fitBars draws quota checks. The scale is the larger of the limit and
// what used plus asked come to, so an overflow shows past the limit line.
func fitBars(checks []purser.QuotaCheck) []fitBar {
	var out []fitBar
	for _, c := range checks {
		b := fitBar{Label: c.Dimension, Over: !c.Fits(), Limited: c.Limit != nil}
		total := c.Used + c.Asked
		scale := total
		if c.Limit != nil {
			scale = math.Max(scale, *c.Limit)
			b.Text = fmt.Sprintf("%s used + %s asked of %s", num(c.Used), num(c.Asked), num(*c.Limit))
		} else {
			b.Text = fmt.Sprintf("%s used + %s asked, no limit", num(c.Used), num(c.Asked))
		}
		if scale <= 0 {
			scale = 1
		}
		px := func(v float64) int { return int(math.Round(v / scale * barWidth)) }
		b.UsedW, b.AskedX, b.AskedW = px(c.Used), px(c.Used), px(c.Asked)
		if c.Limit != nil {
			b.LimitX = min(px(*c.Limit), barWidth-1)
		}
		if b.Over {
			b.Text += " — over the limit"
		}
		out = append(out, b)
	}
	return out
}

func num(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// queueData is the review queue's.
type queueData struct {
	Rows  []requestRow
	Total int
}

// reviewQueue serves GET /reviews: requests waiting for review, oldest
// first, each with its quota fit. Two queries whatever the queue's
// length: the page of requests and every user's usage.
func (s *Server) reviewQueue(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rs, pi, err := s.Requests.FindRequests(ctx, purser.Query{Where: []purser.Cond{eq("status", string(purser.StatusRequested))},
		Sort: []purser.Sort{{Field: "_created"}}, Page: 1, MaxResults: 50})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	usage := map[string]*purser.UserUsage{}
	names := map[string]string{}
	if len(rs) > 0 {
		all, err := s.Quotas.Usage(ctx, "")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, u := range all {
			usage[u.User.ID], names[u.User.ID] = u, u.User.Username
		}
	}
	approvers, err := s.approvers(ctx, len(rs) > 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := queueData{Total: pi.Total}
	for _, x := range rs {
		row := newRequestRow(x, names)
		row.Approvers = max(approvers[x.ResourceTemplate], 1)
		if u := usage[x.RequestedBy]; u != nil {
			checks := x.Beside(purser.CheckQuota(u.Limits, u.Used, u.Pending, x.Footprint))
			row.Fit = fitBars(checks)
			for _, c := range checks {
				row.Fits = row.Fits && c.Fits()
			}
		}
		d.Rows = append(d.Rows, row)
	}
	s.render(w, r, http.StatusOK, "reviews", "Reviews", d)
}

// approvers maps each template to the approvals its requests need, in
// one query (none when there is nothing to review).
func (s *Server) approvers(ctx context.Context, any bool) (map[string]int, error) {
	out := map[string]int{}
	if !any {
		return out, nil
	}
	ts, _, err := s.Templates.FindTemplates(ctx, purser.Query{Page: 1, MaxResults: 1000, SkipTotal: true})
	for _, t := range ts {
		out[t.ID] = t.Approval.Approvers
	}
	return out, err
}

// review serves POST /requests/{id}/review: approve or reject, with a
// comment.
func (s *Server) review(w http.ResponseWriter, r *http.Request) {
	act := purser.ActApprove
	if r.PostFormValue("decision") == "reject" {
		act = purser.ActReject
	}
	_, err := s.Requests.ActOnRequest(r.Context(), r.PathValue("id"), act, purser.Review{Comment: r.PostFormValue("comment")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/reviews", http.StatusSeeOther)
}
