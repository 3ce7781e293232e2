package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser"
)

// followPoll is how often a follower looks for new lines.
const followPoll = 250 * time.Millisecond

func (s *Server) registerLogs() {
	o := op(http.MethodGet, "/provisionRequests/{id}/logs", "get-request-logs", "provisionRequests",
		"The request's job logs; with follow=true, a live stream (server-sent events)", http.StatusNotFound)
	o.Description = "Lines of stdout and stderr with timestamps, secret parameters redacted, capped per job with a note where cut. " +
		"With follow=true the answer is text/event-stream: a `line` event per line (JSON), then an `end` event with the request's status once no job runs."
	o.Responses = map[string]*huma.Response{"200": {Description: "The log", Content: map[string]*huma.MediaType{
		"application/json":  {Schema: s.api.OpenAPI().Components.Schemas.Schema(reflectType[collection[logLineDoc]](), true, "")},
		"text/event-stream": {Schema: &huma.Schema{Type: "string"}},
	}}}
	huma.Register(s.api, o, s.getRequestLogs)
}

// getRequestLogs serves GET /api/v1/provisionRequests/{id}/logs: The request's job logs; with follow=true, a live stream (server-sent events).
func (s *Server) getRequestLogs(ctx context.Context, in *struct {
	ID     string `path:"id"`
	Follow bool   `query:"follow" doc:"Stream new lines as they come, until no job runs."`
	After  int64  `query:"after" minimum:"0" doc:"Only lines after this seq."`
}) (*huma.StreamResponse, error) {
	first, err := s.Logs.FindLogs(ctx, in.ID, in.After, purser.MaxLogPage)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	if !in.Follow {
		return &huma.StreamResponse{Body: func(hc huma.Context) {
			items := make([]logLineDoc, len(first))
			for i, l := range first {
				items[i] = logLineDoc(l)
			}
			hc.SetHeader("Content-Type", "application/json")
			_ = json.NewEncoder(hc.BodyWriter()).Encode(collection[logLineDoc]{Items: items,
				Meta:  listMeta{Page: 1, MaxResults: purser.MaxLogPage, Total: counted(len(items))},
				Links: map[string]link{"self": {Href: BasePath + "/provisionRequests/" + in.ID + "/logs"}}})
		}}, nil
	}
	return &huma.StreamResponse{Body: func(hc huma.Context) { s.follow(hc, in.ID, first) }}, nil
}

// follow streams a request's log as server-sent events until no job runs
// for it and every line was sent, or the client goes away.
func (s *Server) follow(hc huma.Context, id string, lines []purser.LogLine) {
	ctx := hc.Context()
	hc.SetHeader("Content-Type", "text/event-stream")
	hc.SetHeader("Cache-Control", "no-cache")
	hc.SetHeader("X-Accel-Buffering", "no")
	w := hc.BodyWriter()
	// A stream outlives the server's read and write timeouts, which are
	// meant for ordinary requests: lift them for this one. (An expired read
	// deadline would also cancel ctx.)
	if rw, ok := w.(http.ResponseWriter); ok {
		rc := http.NewResponseController(rw)
		if err := errors.Join(rc.SetReadDeadline(time.Time{}), rc.SetWriteDeadline(time.Time{})); err != nil {
			s.Logger.WarnContext(ctx, "log stream keeps the server's timeouts", "error", err)
		}
	}
	flush := func() {
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	var last int64
	send := func(ls []purser.LogLine) {
		for _, l := range ls {
			b, _ := json.Marshal(logLineDoc(l))
			fmt.Fprintf(w, "id: %d\nevent: line\ndata: %s\n\n", l.Seq, b)
			last = l.Seq
		}
		flush()
	}
	send(lines)
	tick := time.NewTicker(followPoll)
	defer tick.Stop()
	for {
		r, err := s.Requests.FindRequestByID(ctx, id)
		if err != nil {
			return
		}
		running := r.Status == purser.StatusApproved || r.Status == purser.StatusInitiated || r.Status == purser.StatusPurgeInitiated
		more, err := s.Logs.FindLogs(ctx, id, last, purser.MaxLogPage)
		if err != nil {
			return
		}
		send(more)
		if !running && len(more) == 0 {
			fmt.Fprintf(w, "event: end\ndata: {\"status\":%q}\n\n", r.Status)
			flush()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
