package ui

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/purserhq/purser"
)

// logTail is how many of a job log's last lines the request page shows;
// the stream appends what comes after.
const logTail = 500

// extraData is the request page's job log and extension part.
type extraData struct {
	ID string
	// Log is the job log's lines, LogSeq the last one's number, LogLive
	// whether the stream follows it (the request can still change).
	Log     []logLineView
	LogSeq  int64
	LogLive bool
	// CanExtend offers the extension form (the owner, a running request
	// never extended, none waiting), up to MaxHours.
	CanExtend bool
	MaxHours  int
	// Extension is the latest extension request; Reviewable when the
	// caller may approve or reject it.
	Extension  *extensionView
	Reviewable bool
	// ExtendError is the server's refusal of the form just sent.
	ExtendError string
	status      int
}

type logLineView struct {
	Seq          int64
	Stream, Line string
	At           timeView
}

type extensionView struct {
	ID, Status, Reason string
	Hours              int
	Created            timeView
}

type extendErrKey struct{}

// requestExtra gathers the page's job log and extension state.
func (s *Server) requestExtra(r *http.Request, req *purser.Request) (extraData, error) {
	ctx := r.Context()
	ended := req.Status == purser.StatusPurged || req.Status == purser.StatusRevoked || req.Status == purser.StatusRejected
	d := extraData{ID: req.ID, status: http.StatusOK, LogLive: s.Logs != nil && !ended}
	if err, ok := ctx.Value(extendErrKey{}).(error); ok {
		d.ExtendError, d.status = purser.ErrorMessage(err), statusOf(err)
	}
	if s.Logs != nil {
		lines, err := s.tail(ctx, req.ID)
		if err != nil {
			return d, err
		}
		d.Log = lines
		if n := len(lines); n > 0 {
			d.LogSeq = lines[n-1].Seq
		}
	}
	if s.Extensions == nil {
		return d, nil
	}
	es, _, err := s.Extensions.FindExtensions(ctx, purser.Query{Where: []purser.Cond{eq("provision_request", req.ID)},
		Sort: []purser.Sort{{Field: "_created", Desc: true}}, Page: 1, MaxResults: 1, SkipTotal: true})
	if err != nil {
		return d, err
	}
	a := purser.ActorFromContext(ctx)
	waiting := false
	if len(es) > 0 {
		e := es[0]
		d.Extension = &extensionView{ID: e.ID, Status: e.Status, Reason: e.Reason, Hours: e.ExtendBy, Created: newTime(e.Created)}
		waiting = e.Status == purser.ExtensionRequested
		d.Reviewable = waiting && a.Can(purser.ActionRequestReview) && e.RequestedBy != a.User.ID
	}
	running := req.Status == purser.StatusApproved || req.Status == purser.StatusInitiated || req.Status == purser.StatusDeployed
	if a.IsUser(req.RequestedBy) && running && !req.Extended && !waiting {
		t, err := s.Templates.FindTemplateRevision(ctx, req.ResourceTemplate, req.TemplateRevision)
		if err != nil {
			return d, err
		}
		d.MaxHours = t.MaxExtensionHours()
		d.CanExtend = d.MaxHours > 0
	}
	return d, nil
}

// tail reads the last logTail lines of a request's log: the lines are
// numbered from 1, so it reads on from the start in pages (one page for
// most logs).
func (s *Server) tail(ctx context.Context, id string) ([]logLineView, error) {
	var out []logLineView
	var after int64
	for {
		ls, err := s.Logs.FindLogs(ctx, id, after, purser.MaxLogPage)
		if err != nil {
			return nil, err
		}
		out = append(out, logViews(ls)...)
		if len(out) > logTail {
			out = out[len(out)-logTail:]
		}
		if len(ls) < purser.MaxLogPage {
			return out, nil
		}
		after = ls[len(ls)-1].Seq
	}
}

func logViews(ls []purser.LogLine) []logLineView {
	out := make([]logLineView, 0, len(ls))
	for _, l := range ls {
		out = append(out, logLineView{Seq: l.Seq, Stream: l.Stream, Line: l.Line, At: newTime(l.Time)})
	}
	return out
}

// requestLogLive serves GET /requests/{id}/log/live?after=SEQ: a stream
// that appends the job log's new lines (event "log") as jobs write them.
func (s *Server) requestLogLive(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), r.PathValue("id")
	if s.Logs == nil {
		s.fail(w, r, purser.Errorf(purser.ENOTFOUND, "job logs are not served here"))
		return
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	if _, err := s.Requests.FindRequestByID(ctx, id); err != nil {
		s.fail(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	tick, end := time.NewTicker(s.interval()), time.After(streamLifetime)
	defer tick.Stop()
	lastWrite := time.Now()
	for {
		ls, err := s.Logs.FindLogs(ctx, id, after, purser.MaxLogPage)
		if err != nil {
			return
		}
		_ = rc.SetWriteDeadline(time.Now().Add(heartbeat + 10*time.Second))
		switch {
		case len(ls) > 0:
			after = ls[len(ls)-1].Seq
			err = sendEvent(ctx, w, "log", logLines(logViews(ls)))
			lastWrite = time.Now()
		case time.Since(lastWrite) > heartbeat:
			_, err = fmt.Fprint(w, ": ping\n\n")
			lastWrite = time.Now()
		}
		if err != nil || rc.Flush() != nil {
			return
		}
		if !s.wait(ctx, tick.C, end) {
			return
		}
	}
}

// requestLog serves GET /requests/{id}/log: the whole job log as text,
// for reading or saving without JavaScript.
func (s *Server) requestLog(w http.ResponseWriter, r *http.Request) {
	if s.Logs == nil {
		s.fail(w, r, purser.Errorf(purser.ENOTFOUND, "job logs are not served here"))
		return
	}
	lines, err := s.tail(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	for _, l := range lines {
		fmt.Fprintf(w, "%s %s %s\n", l.At.ISO, l.Stream, l.Line)
	}
}

// extendRequest serves POST /requests/{id}/extend: the owner asks for
// more hours once; a refusal shows on the page beside the form.
func (s *Server) extendRequest(w http.ResponseWriter, r *http.Request) {
	if s.Extensions == nil {
		s.fail(w, r, purser.Errorf(purser.ENOTFOUND, "extensions are not served here"))
		return
	}
	hours, err := strconv.Atoi(r.PostFormValue("hours"))
	if err != nil {
		err = purser.Invalid(purser.FieldError{Field: "extend_by", Rule: "integer", Message: "must be a whole number of hours"})
	} else {
		err = s.Extensions.CreateExtension(r.Context(), &purser.Extension{ProvisionRequest: r.PathValue("id"), ExtendBy: hours,
			Reason: strings.TrimSpace(r.PostFormValue("reason"))})
	}
	s.afterExtension(w, r, err)
}

// reviewExtension serves POST /requests/{id}/extension/{eid}: a
// reviewer approves or rejects, or the owner withdraws, an extension.
func (s *Server) reviewExtension(w http.ResponseWriter, r *http.Request) {
	if s.Extensions == nil {
		s.fail(w, r, purser.Errorf(purser.ENOTFOUND, "extensions are not served here"))
		return
	}
	var err error
	switch r.PostFormValue("decision") {
	case "approve", "reject":
		_, err = s.Extensions.ReviewExtension(r.Context(), r.PathValue("eid"), r.PostFormValue("decision") == "approve",
			purser.Review{Comment: r.PostFormValue("comment")})
	case "withdraw":
		_, err = s.Extensions.RevokeExtension(r.Context(), r.PathValue("eid"))
	default:
		err = purser.Invalid(purser.FieldError{Field: "decision", Rule: "enum", Message: "must be approve, reject or withdraw"})
	}
	s.afterExtension(w, r, err)
}

// afterExtension goes back to the request page, showing a refusal there.
func (s *Server) afterExtension(w http.ResponseWriter, r *http.Request, err error) {
	if err == nil {
		http.Redirect(w, r, string(requestURL(r.PathValue("id"), "")), http.StatusSeeOther)
		return
	}
	if c := purser.ErrorCode(err); c != purser.EINVALID && c != purser.ECONFLICT {
		s.fail(w, r, err)
		return
	}
	s.requestDetail(w, r.WithContext(context.WithValue(r.Context(), extendErrKey{}, err)))
}

// purgeData is the purge confirmation page's.
type purgeData struct {
	ID, Template, Status string
	Error                string
}

func (d purgeData) content(p page) templ.Component { return purgePage(p, d) }

// purgePage serves GET /requests/{id}/purge: what purging destroys, and
// the form that does it, which must carry the request's id typed again.
func (s *Server) purgePage(w http.ResponseWriter, r *http.Request) {
	req, err := s.Requests.FindRequestByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := purgeData{ID: req.ID, Template: req.ResourceTemplate, Status: string(req.Status)}
	if _, ok := purser.Transitions[purser.ActPurge][req.Status]; !ok {
		d.Error = "This environment cannot be purged in " + string(req.Status) + " state."
	}
	s.render(w, r, http.StatusOK, "request", "Purge "+req.ID+"?", d)
}
