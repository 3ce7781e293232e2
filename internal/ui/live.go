package ui

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/purserhq/purser"
)

// streamLifetime bounds one event stream; the browser's htmx reconnects.
const streamLifetime = 10 * time.Minute

// heartbeat keeps an idle stream's connection from being cut by proxies.
const heartbeat = 15 * time.Second

// stopping is closed by Shutdown, so that open event streams end and the
// HTTP server's graceful shutdown does not wait for them.
type stopping struct {
	once sync.Once
	ch   chan struct{}
}

func (s *stopping) done() <-chan struct{} { return s.channel() }

func (s *stopping) channel() chan struct{} {
	s.once.Do(func() { s.ch = make(chan struct{}) })
	return s.ch
}

// Shutdown ends the UI's open event streams; give it to
// http.Server.RegisterOnShutdown.
func (s *Server) Shutdown() {
	ch := s.stop.channel()
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// statusData is the live part of the request page, swapped by the stream.
type statusData struct {
	ID, Status, StatusClass string
	Owner, Outputs, Final   bool
	Kubeconfig              bool // a KUBERNETES environment: offer its kubeconfig
}

// requestLive serves GET /requests/{id}/live: a server-sent event stream
// that sends the request's status block (event "status") whenever the
// status changes. It polls the store once a LiveInterval while the
// request can still change.
func (s *Server) requestLive(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), user(r)
	req, err := s.Requests.FindRequestByID(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	tick, end := time.NewTicker(s.interval()), time.After(streamLifetime)
	defer tick.Stop()
	last, lastWrite := purser.Status(r.URL.Query().Get("since")), time.Time{}
	for {
		st := newStatus(req, u)
		if req.Status != last || time.Since(lastWrite) > heartbeat {
			_ = rc.SetWriteDeadline(time.Now().Add(heartbeat + 10*time.Second))
			if err := s.sendStatus(w, r, req.Status != last, st); err != nil || rc.Flush() != nil {
				return
			}
			last, lastWrite = req.Status, time.Now()
		}
		if !s.wait(ctx, tick.C, end) {
			return
		}
		if !st.Final {
			if req, err = s.Requests.FindRequestByID(ctx, req.ID); err != nil {
				return
			}
		}
	}
}

// sendStatus writes the status block as an event, or a comment that only
// keeps the connection open.
func (s *Server) sendStatus(w http.ResponseWriter, r *http.Request, changed bool, st statusData) error {
	if !changed {
		_, err := fmt.Fprint(w, ": ping\n\n")
		return err
	}
	if err := sendEvent(r.Context(), w, "status", statusBlock(st)); err != nil {
		return err
	}
	tl, err := s.timeline(r.Context(), st.ID)
	if err != nil {
		return err
	}
	return sendEvent(r.Context(), w, "timeline", timeline(tl))
}

// sendEvent writes one server-sent event whose data is c rendered.
func sendEvent(ctx context.Context, w io.Writer, event string, c templ.Component) error {
	var b bytes.Buffer
	if err := c.Render(ctx, &b); err != nil {
		return err
	}
	lines := strings.ReplaceAll(strings.TrimSpace(b.String()), "\n", "\ndata: ")
	_, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, lines)
	return err
}

// requestListLive serves GET /requests/live: a stream that sends the
// my-requests table (event "rows") whenever a status on its page changes;
// one query a LiveInterval, whatever the page's length.
func (s *Server) requestListLive(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q, _, _ := listQuery(r)
	q.SkipTotal = true
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	tick, end := time.NewTicker(s.interval()), time.After(streamLifetime)
	defer tick.Stop()
	last, lastWrite := "", time.Now()
	for first := true; ; first = false {
		rs, _, err := s.Requests.FindRequests(ctx, q)
		if err != nil {
			return
		}
		var sig strings.Builder
		rows := make([]requestRow, 0, len(rs))
		for _, x := range rs {
			sig.WriteString(x.ID + "=" + string(x.Status) + ";")
			rows = append(rows, newRequestRow(x, nil))
		}
		_ = rc.SetWriteDeadline(time.Now().Add(heartbeat + 10*time.Second))
		wrote := true
		switch {
		case !first && sig.String() != last:
			err = sendEvent(ctx, w, "rows", rowsTable(rows))
		case time.Since(lastWrite) > heartbeat:
			_, err = fmt.Fprint(w, ": ping\n\n")
		default:
			wrote = false
		}
		if err != nil || rc.Flush() != nil {
			return
		}
		if wrote {
			lastWrite = time.Now()
		}
		last = sig.String()
		if !s.wait(ctx, tick.C, end) {
			return
		}
	}
}

func (s *Server) interval() time.Duration {
	if s.LiveInterval <= 0 {
		return time.Second
	}
	return s.LiveInterval
}

// wait waits for the next tick and reports whether the stream goes on: it
// ends with the request, at the server's shutdown and after its lifetime.
func (s *Server) wait(ctx context.Context, tick <-chan time.Time, end <-chan time.Time) bool {
	select {
	case <-ctx.Done():
		return false
	case <-s.stop.done():
		return false
	case <-end:
		return false
	case <-tick:
		return true
	}
}
