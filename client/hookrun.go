package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// HookRun is one run of a pool's hook on a host, run by the host's agent.
type HookRun struct {
	Meta
	Host     string     `json:"host"`
	Pool     string     `json:"pool"`
	Kind     string     `json:"kind" enum:"join,leave,reboot"`
	Argv     []string   `json:"argv" doc:"The command as queued; rendered (placeholders replaced) once the agent claims it."`
	State    string     `json:"state" enum:"PENDING,RUNNING,SUCCEEDED,FAILED"`
	ExitCode int        `json:"exit_code" doc:"-1 when it did not finish in time."`
	Error    string     `json:"error" doc:"Why it failed."`
	Started  *time.Time `json:"started,omitempty"`
	Finished *time.Time `json:"finished,omitempty"`
}

// HookRunsClaimed are the runs handed to an agent, to run in order.
type HookRunsClaimed struct {
	Items          []HookRun `json:"items"`
	TimeoutSeconds int       `json:"timeout_seconds" doc:"How long a run may take from when it was queued (pools.join_timeout)."`
}

// HookLogLine is a line of a run's output as its agent sends it.
type HookLogLine struct {
	Time   time.Time `json:"time,omitempty"`
	Stream string    `json:"stream" enum:"stdout,stderr,purser"`
	Line   string    `json:"line" maxLength:"16384"`
}

// HookLogLines is a batch of a run's output lines.
type HookLogLines struct {
	Lines []HookLogLine `json:"lines" maxItems:"1000"`
}

// HookRunFinish is a run's end as its agent reports it.
type HookRunFinish struct {
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error,omitempty" maxLength:"4096" doc:"Why it could not start or run (no exit code)."`
}

func hookRunPath(host, id string) string {
	return APIPath + "/hosts/" + url.PathEscape(host) + "/hookRuns/" + url.PathEscape(id)
}

// ClaimHookRuns hands the host's pending runs to its agent (the agent's
// credential).
func (c *Client) ClaimHookRuns(ctx context.Context, host string) (*HookRunsClaimed, error) {
	var out HookRunsClaimed
	return &out, c.Do(ctx, http.MethodPost, APIPath+"/hosts/"+url.PathEscape(host)+"/hookRuns/claim", nil, &out)
}

// AppendHookLog sends output lines of a running run.
func (c *Client) AppendHookLog(ctx context.Context, host, id string, lines []HookLogLine) error {
	return c.Do(ctx, http.MethodPost, hookRunPath(host, id)+"/logs", HookLogLines{Lines: lines}, nil)
}

// FinishHookRun reports a run's end.
func (c *Client) FinishHookRun(ctx context.Context, host, id string, in HookRunFinish) (*HookRun, error) {
	var out HookRun
	return &out, c.Do(ctx, http.MethodPost, hookRunPath(host, id)+"/finish", in, &out)
}

// ListHookRuns returns a page of a host's runs.
func (c *Client) ListHookRuns(ctx context.Context, host string, o ListOptions) (*List[HookRun], error) {
	var l List[HookRun]
	return &l, c.Do(ctx, http.MethodGet, APIPath+"/hosts/"+url.PathEscape(host)+"/hookRuns"+o.encode(), nil, &l)
}

// HookRunLogs returns a run's output after seq.
func (c *Client) HookRunLogs(ctx context.Context, host, id string, after int64) (*List[LogLine], error) {
	var l List[LogLine]
	return &l, c.Do(ctx, http.MethodGet, fmt.Sprintf("%s/logs?after=%d", hookRunPath(host, id), after), nil, &l)
}

// RebootHost queues the reboot hook of the host's pool.
func (c *Client) RebootHost(ctx context.Context, host string) (*HookRun, error) {
	var out HookRun
	return &out, c.Do(ctx, http.MethodPost, APIPath+"/hosts/"+url.PathEscape(host)+"/reboot", nil, &out)
}
