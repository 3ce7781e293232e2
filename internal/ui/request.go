package ui

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/purserhq/purser"
)

// requestRow is a request as lists show it.
type requestRow struct {
	ID, Template, Status, StatusClass, Description, RequestedBy string
	Created, Expires                                            timeView
	Cost                                                        string
	Fit                                                         []fitBar
	Fits                                                        bool
	Approvers                                                   int
}

// newRequestRow makes a list row; names maps user ids to usernames.
func newRequestRow(r *purser.Request, names map[string]string) requestRow {
	by := r.RequestedBy
	if n := names[by]; n != "" {
		by = n
	}
	return requestRow{ID: r.ID, Template: r.ResourceTemplate, Status: string(r.Status), StatusClass: statusClass(r.Status),
		Description: r.Description, RequestedBy: by, Created: newTime(r.Created), Expires: newTime(r.ExpiresBy),
		Cost: fmt.Sprintf("$%.2f", r.EstimatedCost), Fits: true}
}

// statusClass is the CSS class of a status badge.
func statusClass(s purser.Status) string {
	switch s {
	case purser.StatusDeployed:
		return "ok"
	case purser.StatusFailed, purser.StatusRejected, purser.StatusPurgeFailed:
		return "bad"
	case purser.StatusRequested, purser.StatusApproved, purser.StatusInitiated, purser.StatusPurgeInitiated:
		return "wait"
	}
	return "off"
}

// listData is the my-requests page's.
type listData struct {
	Rows     []requestRow
	Statuses []option
	Total    int
	Next     string
	Live     string // the stream of the rows
}

// option is a choice of a select.
type option struct {
	Value, Label string
	Selected     bool
}

// listQuery is the my-requests page's query: the caller's requests,
// newest first, filtered by status, fifty a page.
func listQuery(r *http.Request) (purser.Query, string, int) {
	where := []purser.Cond{eq("requested_by", user(r).ID)}
	status := r.URL.Query().Get("status")
	if status != "" {
		where = append(where, eq("status", status))
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if page < 1 {
		page = 1
	}
	return purser.Query{Where: where, Sort: []purser.Sort{{Field: "_created", Desc: true}}, Page: page, MaxResults: 50}, status, page
}

// requestList serves GET /requests: the caller's requests, their
// statuses live.
func (s *Server) requestList(w http.ResponseWriter, r *http.Request) {
	q, status, page := listQuery(r)
	rs, pi, err := s.Requests.FindRequests(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := listData{Total: pi.Total, Statuses: []option{{Value: "", Label: "any status", Selected: status == ""}},
		Live: fmt.Sprintf("/requests/live?status=%s&page=%d", url.QueryEscape(status), page)}
	for _, st := range purser.Statuses {
		d.Statuses = append(d.Statuses, option{Value: string(st), Label: string(st), Selected: status == string(st)})
	}
	for _, x := range rs {
		d.Rows = append(d.Rows, newRequestRow(x, nil))
	}
	if pi.More {
		d.Next = fmt.Sprintf("/requests?status=%s&page=%d", url.QueryEscape(status), page+1)
	}
	s.render(w, r, http.StatusOK, "requests", "My requests", d)
}

// detailData is the request page's.
type detailData struct {
	Request  requestRow
	Status   statusData
	Params   []option
	Timeline []timelineEntry
	LastErr  string
	Fit      []fitBar
	Review   bool
	Actions  []actionButton
	Extra    extraData // job log and extension (request_extra.go)
}

// timelineEntry is one event of a request's history.
type timelineEntry struct {
	Action, Actor, Detail string
	At                    timeView
}

func newStatus(r *purser.Request, u *purser.User) statusData {
	final := r.Status == purser.StatusDeployed || r.Status == purser.StatusFailed || r.Status == purser.StatusRejected ||
		r.Status == purser.StatusRevoked || r.Status == purser.StatusPurged || r.Status == purser.StatusPurgeFailed
	return statusData{ID: r.ID, Status: string(r.Status), StatusClass: statusClass(r.Status),
		Owner: u != nil && u.ID == r.RequestedBy, Outputs: r.HasOutputs && r.Status == purser.StatusDeployed, Final: final,
		Kubeconfig: r.ResourceType == "KUBERNETES"}
}

// requestDetail serves GET /requests/{id}: the request, its parameters,
// its timeline, its status live, and for reviewers its quota fit.
func (s *Server) requestDetail(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	req, err := s.Requests.FindRequestByID(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	timeline, err := s.timeline(ctx, req.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := detailData{Request: newRequestRow(req, nil), Status: newStatus(req, user(r)), LastErr: req.LastError, Timeline: timeline, Actions: actions(req, user(r))}
	for k, v := range req.ResourceParameters {
		d.Params = append(d.Params, option{Value: fmt.Sprint(v), Label: k})
	}
	sort.Slice(d.Params, func(i, j int) bool { return d.Params[i].Label < d.Params[j].Label })
	a := purser.ActorFromContext(ctx)
	if req.Status == purser.StatusRequested && a.Can(purser.ActionRequestReview) && req.RequestedBy != a.User.ID {
		checks, err := s.Requests.RequestQuota(ctx, req.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Fit, d.Review = fitBars(checks), true
	}
	if d.Extra, err = s.requestExtra(r, req); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, d.Extra.status, "request", "Request "+req.ID, d)
}

// timeline returns a request's events, oldest first, with the actors'
// usernames: two queries however long the history.
func (s *Server) timeline(ctx context.Context, id string) ([]timelineEntry, error) {
	evs, _, err := s.Events.FindEvents(ctx, purser.Query{Where: []purser.Cond{eq("target_id", id)},
		Sort: []purser.Sort{{Field: "_created"}}, Page: 1, MaxResults: 100, SkipTotal: true})
	if err != nil {
		return nil, err
	}
	names := map[string]purser.Ref{}
	if s.Names != nil {
		ids := make([]string, 0, len(evs))
		for _, e := range evs {
			ids = append(ids, e.Actor)
		}
		if names, err = s.Names.ResolveUsers(ctx, ids); err != nil {
			return nil, err
		}
	}
	out := make([]timelineEntry, 0, len(evs))
	for _, e := range evs {
		actor := e.Actor
		if n, ok := names[actor]; ok {
			actor = n.Name
		}
		out = append(out, timelineEntry{Action: e.Action, Actor: actor, Detail: eventDetail(e), At: newTime(e.Created)})
	}
	return out, nil
}

// eventDetail summarises an event's change: the status it moved to and
// its comment.
func eventDetail(e *purser.Event) string {
	var parts []string
	for _, k := range []string{"status", "review_comment", "last_error"} {
		if v, ok := e.After[k]; ok && v != nil && v != "" {
			parts = append(parts, fmt.Sprint(v))
		}
	}
	return strings.Join(parts, " · ")
}

// outputsData is the outputs fragment's.
type outputsData struct {
	ID      string
	Outputs []option
}

// requestOutputs serves GET /requests/{id}/outputs: the environment's
// outputs, for the owner (and admins). htmx swaps the fragment in; a
// browser without JavaScript gets a page.
func (s *Server) requestOutputs(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	out, err := s.Requests.RequestOutputs(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := outputsData{ID: id}
	for k, v := range out {
		d.Outputs = append(d.Outputs, option{Label: k, Value: v})
	}
	sort.Slice(d.Outputs, func(i, j int) bool { return d.Outputs[i].Label < d.Outputs[j].Label })
	if r.Header.Get("HX-Request") == "true" {
		s.write(w, r, http.StatusOK, outputsList(d.Outputs))
		return
	}
	s.render(w, r, http.StatusOK, "outputs", "Outputs of "+id, d)
}
