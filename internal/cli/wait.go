package cli

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/purserhq/purser/client"
)

// waiter follows a request for --wait: it says what the request waits
// for, reports each failed attempt from the job log, and rides out a
// server restart by reconnecting with backoff until its deadline.
type waiter struct {
	cli     *env
	c       *client.Client
	id      string
	timeout time.Duration
	start   time.Time

	status   string
	said     string // the last line said about the status
	logSeq   int64
	attempt  [2]int // this attempt, of how many
	lost     bool   // the server is unreachable
	backoff  time.Duration
	approver struct {
		needed int
		mode   string
	}
}

func newWaiter(cli *env, c *client.Client, id string, timeout time.Duration) *waiter {
	return &waiter{cli: cli, c: c, id: id, timeout: timeout, start: time.Now()}
}

func (w *waiter) say(format string, a ...any) {
	fmt.Fprintf(w.cli.stderr, "  %5s  %s\n", humanDuration(time.Since(w.start)), fmt.Sprintf(format, a...))
}

// transient reports whether err is worth waiting out: no answer, or a
// server that is starting or stopping.
func transient(err error) bool {
	if client.IsUnreachable(err) {
		return true
	}
	s := client.StatusCode(err)
	return s == 502 || s == 503 || s == 504
}

// until follows the request until its status is one of done, or the
// timeout (WaitGaveUp), or an error that waiting cannot fix.
func (w *waiter) until(parent context.Context, done ...string) (*client.Request, error) {
	ctx, cancel := context.WithTimeout(parent, w.timeout)
	defer cancel()
	gaveUp := func() error {
		if parent.Err() != nil {
			return fmt.Errorf("stopped waiting; the request goes on (still %s)", dash(w.status))
		}
		return WaitGaveUp{After: w.timeout, Status: dash(w.status)}
	}
	for {
		r, err := w.c.GetRequest(ctx, w.id)
		switch {
		case ctx.Err() != nil:
			return r, gaveUp()
		case err != nil && transient(err):
			if !w.lost {
				w.lost, w.backoff = true, 500*time.Millisecond
				w.say("lost the server (%s); reconnecting, still waiting", OneLine(err))
			} else {
				w.backoff = min(w.backoff*2, 5*time.Second)
			}
			if !sleep(ctx, w.backoff) {
				return r, gaveUp()
			}
			continue
		case err != nil:
			return nil, err
		}
		if w.lost {
			w.lost = false
			w.say("reconnected")
		}
		w.attempts(ctx)
		w.describe(ctx, r)
		for _, s := range done {
			if r.Status == s {
				return r, nil
			}
		}
		if !sleep(ctx, 300*time.Millisecond) {
			return r, gaveUp()
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// describe says what the request is waiting for, when that changes.
func (w *waiter) describe(ctx context.Context, r *client.Request) {
	w.status = r.Status
	var line string
	switch r.Status {
	case "REQUESTED":
		line = w.review(ctx, r)
	case "APPROVED":
		line = "APPROVED; waiting for a worker to start provisioning"
	case "INITIATED":
		line = "INITIATED: provisioning"
	case "PURGE_INITIATED":
		line = "PURGE_INITIATED: destroying the environment"
	default:
		line = r.Status
	}
	if line != w.said {
		w.said = line
		w.say("%s", line)
	}
}

// review says who must review a REQUESTED request, and how many
// approvals it has.
func (w *waiter) review(ctx context.Context, r *client.Request) string {
	if w.approver.needed == 0 {
		w.approver.needed, w.approver.mode = 1, "manual"
		if t, err := w.c.GetTemplate(ctx, r.ResourceTemplate); err == nil {
			if n, ok := t.Approval["approvers"].(float64); ok && n > 1 {
				w.approver.needed = int(n)
			}
			if m, ok := t.Approval["mode"].(string); ok && m != "" {
				w.approver.mode = m
			}
		}
	}
	n := w.approver.needed
	if w.approver.mode == "auto" && r.ReviewComment == "" && time.Since(w.start) < 5*time.Second {
		// Purser approves within the template's limits itself, at once.
		return "REQUESTED: the template approves automatically within its limits and the quota"
	}
	line := "REQUESTED: waiting for review by DevOps (or an admin); "
	if n == 1 {
		line += "1 approver needed"
	} else {
		line += strconv.Itoa(n) + " approvers needed"
		if m := approvedBy.FindStringSubmatch(r.ReviewComment); m != nil {
			line += " (" + m[1] + " so far)"
		}
	}
	if w.approver.mode == "auto" {
		line += " (it is beyond what the template approves automatically)"
	}
	if r.Quota != nil && !r.Quota.Fits {
		line += "; it does not fit your quota as it stands"
	}
	return line
}

var approvedBy = regexp.MustCompile(`approved by (\d+) of the \d+ approvers needed`)

var (
	attemptLine = regexp.MustCompile(`^(provision|purge): attempt (\d+) of (\d+)`)
	failedLine  = regexp.MustCompile(`^(provision|purge|destroy) failed: (.*)$`)
)

// attempts reads new lines of the request's job log and reports retries:
// "attempt 2 of 5 failed: ...".
func (w *waiter) attempts(ctx context.Context) {
	l, err := w.c.RequestLogs(ctx, w.id, w.logSeq)
	if err != nil {
		return // logs are a courtesy; the status is what --wait follows
	}
	for _, ln := range l.Items {
		w.logSeq = max(w.logSeq, ln.Seq)
		if ln.Stream != "purser" {
			continue
		}
		if m := attemptLine.FindStringSubmatch(ln.Line); m != nil {
			a, _ := strconv.Atoi(m[2])
			of, _ := strconv.Atoi(m[3])
			w.attempt = [2]int{a, of}
			if a > 1 {
				w.say("%s: attempt %d of %d", m[1], a, of)
			}
		} else if m := failedLine.FindStringSubmatch(ln.Line); m != nil && w.attempt[0] > 0 {
			w.say("attempt %d of %d failed: %s", w.attempt[0], w.attempt[1], m[2])
		}
	}
}

// waitDeployed shows a request's progress until it is DEPLOYED or ends
// otherwise, then how to get access.
func waitDeployed(cmd *cobra.Command, cli *env, c *client.Client, id string, timeout time.Duration) error {
	w := newWaiter(cli, c, id, timeout)
	r, err := w.until(cmd.Context(), "DEPLOYED", "FAILED", "REJECTED", "REVOKED", "PURGED", "PURGE_FAILED", "EXPIRED")
	if err != nil {
		return err
	}
	if r.Status != "DEPLOYED" {
		return ended(r)
	}
	out, err := c.RequestOutputs(cmd.Context(), id)
	if err != nil {
		return err
	}
	if !cli.tableOutput() {
		return cli.render(map[string]any{"request": r, "outputs": out}, nil)
	}
	fmt.Fprintf(cli.stdout, "Environment %s is DEPLOYED until %s.\n\n", r.ID, when(r.ExpiresBy))
	tw := newTable(cli.stdout)
	outputsTable(tw, id, out)
	return tw.Flush()
}

// ended is the error of a request --wait saw end otherwise than hoped.
func ended(r *client.Request) error {
	msg := fmt.Sprintf("request %s ended %s", r.ID, r.Status)
	if r.LastError != "" {
		msg += ": " + r.LastError
	}
	if r.ReviewComment != "" {
		msg += " (" + r.ReviewComment + ")"
	}
	return errors.New(strings.TrimSpace(msg))
}

// waitExtension polls an extension request until it is reviewed or
// revoked, riding out server restarts.
func waitExtension(parent context.Context, c *client.Client, id string, timeout time.Duration) (*client.Extension, error) {
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	where := fmt.Sprintf(`{"_id":%q}`, id)
	backoff := 500 * time.Millisecond
	status := "REQUESTED"
	for {
		l, err := c.ListExtensions(ctx, client.ListOptions{Where: where})
		switch {
		case ctx.Err() != nil:
			if parent.Err() != nil {
				return nil, fmt.Errorf("stopped waiting; the extension request goes on")
			}
			return nil, WaitGaveUp{After: timeout, Status: status}
		case err != nil && transient(err):
			backoff = min(backoff*2, 5*time.Second)
		case err != nil:
			return nil, err
		case len(l.Items) == 1:
			backoff = 500 * time.Millisecond
			status = l.Items[0].Status
			if status != "REQUESTED" {
				return &l.Items[0], nil
			}
		}
		if !sleep(ctx, backoff) {
			continue // the next round reports the deadline
		}
	}
}
