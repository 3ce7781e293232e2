package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser"
)

func newHookRunDoc(r *purser.HookRun) hookRunDoc {
	argv := r.Argv
	if argv == nil {
		argv = []string{}
	}
	m := newMeta(r.ID, r.Created, r.Updated, r.ETag(), "hosts/"+r.Host+"/hookRuns", "hook run")
	return hookRunDoc{Meta: m, Host: r.Host, Pool: r.Pool, Kind: string(r.Kind), Argv: argv, State: string(r.State),
		ExitCode: r.ExitCode, Error: r.Error, Started: r.Started, Finished: r.Finished}
}

func (s *Server) registerHookRuns() {
	c := op(http.MethodPost, "/hosts/{name}/hookRuns/claim", "claim-hook-runs", "hosts", "Take the host's pending hook runs (its agent only)", http.StatusNotFound)
	c.Description = "The runs come rendered (placeholders replaced), RUNNING, in the order they were queued: the agent runs them one after the other " +
		"under the exec rules (clean environment, its run-as user, process group killed at the timeout), streams their output to " +
		"/hookRuns/{id}/logs and reports each exit to /hookRuns/{id}/finish. Another host's agent, or a user, answers 403."
	huma.Register(s.api, c, s.claimHookRuns)
	l := op(http.MethodPost, "/hosts/{name}/hookRuns/{id}/logs", "append-hook-run-log", "hosts", "Append output lines to a running hook run's log (its agent only)",
		http.StatusNotFound, http.StatusConflict)
	l.DefaultStatus = http.StatusNoContent
	huma.Register(s.api, l, s.appendHookLog)
	f := op(http.MethodPost, "/hosts/{name}/hookRuns/{id}/finish", "finish-hook-run", "hosts", "Report a hook run's exit (its agent only)",
		http.StatusNotFound, http.StatusConflict)
	f.Description = "Exit 0 succeeds: a join makes the member joined; the last leave of a destroying pool removes it. Anything else fails: " +
		"a failed join makes the host leave and the pool place another by best fit; a failed leave puts the host under maintenance " +
		"(and a destroying pool DESTROY_FAILED, naming it). A run that already ended (its timeout passed) answers 409."
	huma.Register(s.api, f, s.finishHookRun)
	huma.Register(s.api, op(http.MethodGet, "/hosts/{name}/hookRuns", "list-hook-runs", "hosts", "List the host's hook runs (devops, admins, its agent)",
		http.StatusBadRequest), s.listHookRuns)
	huma.Register(s.api, op(http.MethodGet, "/hosts/{name}/hookRuns/{id}/logs", "get-hook-run-logs", "hosts", "A hook run's output (devops, admins, its agent)",
		http.StatusNotFound), s.getHookRunLogs)
	r := op(http.MethodPost, "/hosts/{name}/reboot", "reboot-host", "hosts", "Run the reboot hook of the host's pool on it (devops, admins)",
		http.StatusNotFound, http.StatusConflict)
	r.DefaultStatus = http.StatusAccepted
	r.Description = "Queues the run for the host's agent. A host in no pool, or whose pool has no reboot hook, answers 409."
	huma.Register(s.api, r, s.rebootHost)
}

// claimHookRuns serves POST /api/v1/hosts/{name}/hookRuns/claim.
func (s *Server) claimHookRuns(ctx context.Context, in *hostName) (*struct{ Body hookRunsClaimedDoc }, error) {
	runs, timeout, err := s.HookRuns.ClaimHookRuns(ctx, in.Name)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &struct{ Body hookRunsClaimedDoc }{hookRunsClaimedDoc{Items: make([]hookRunDoc, len(runs)), TimeoutSeconds: int(timeout / time.Second)}}
	for i, r := range runs {
		out.Body.Items[i] = newHookRunDoc(r)
	}
	return out, nil
}

// appendHookLog serves POST /api/v1/hosts/{name}/hookRuns/{id}/logs.
func (s *Server) appendHookLog(ctx context.Context, in *struct {
	Name string `path:"name"`
	ID   string `path:"id"`
	Body hookLogLinesBody
}) (*struct{}, error) {
	lines := make([]purser.LogLine, len(in.Body.Lines))
	for i, l := range in.Body.Lines {
		stream := l.Stream
		if stream != "stdout" && stream != "stderr" {
			stream = "purser"
		}
		lines[i] = purser.LogLine{Time: l.Time, Stream: stream, Line: l.Line}
	}
	return nil, s.problemOrNil(ctx, s.HookRuns.AppendHookLog(ctx, in.Name, in.ID, lines))
}

// finishHookRun serves POST /api/v1/hosts/{name}/hookRuns/{id}/finish.
func (s *Server) finishHookRun(ctx context.Context, in *struct {
	Name string `path:"name"`
	ID   string `path:"id"`
	Body hookRunFinishBody
}) (*struct{ Body hookRunDoc }, error) {
	r, err := s.HookRuns.FinishHookRun(ctx, in.Name, in.ID, in.Body.ExitCode, in.Body.Error)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &struct{ Body hookRunDoc }{newHookRunDoc(r)}, nil
}

// listHookRuns serves GET /api/v1/hosts/{name}/hookRuns.
func (s *Server) listHookRuns(ctx context.Context, in *struct {
	Name string `path:"name"`
	ListParams
}) (*struct{ Body collection[hookRunDoc] }, error) {
	q, err := in.query(purser.HookRunFields)
	if err == nil {
		_, err = in.embedded()
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	runs, info, err := s.HookRuns.FindHookRuns(ctx, in.Name, q)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &struct{ Body collection[hookRunDoc] }{}
	out.Body.Items = make([]hookRunDoc, len(runs))
	for i, r := range runs {
		out.Body.Items[i] = newHookRunDoc(r)
	}
	out.Body.Meta = listMetaOf(q, info)
	out.Body.Links = pageLinks("hosts/"+in.Name+"/hookRuns", in.ListParams, info)
	return out, nil
}

// getHookRunLogs serves GET /api/v1/hosts/{name}/hookRuns/{id}/logs.
func (s *Server) getHookRunLogs(ctx context.Context, in *struct {
	Name  string `path:"name"`
	ID    string `path:"id"`
	After int64  `query:"after" minimum:"0" doc:"Only lines after this seq."`
}) (*struct{ Body collection[logLineDoc] }, error) {
	lines, err := s.HookRuns.FindHookRunLogs(ctx, in.Name, in.ID, in.After, purser.MaxLogPage)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &struct{ Body collection[logLineDoc] }{}
	out.Body.Items = make([]logLineDoc, len(lines))
	for i, l := range lines {
		out.Body.Items[i] = logLineDoc(l)
	}
	out.Body.Meta = listMeta{Page: 1, MaxResults: purser.MaxLogPage, Total: counted(len(lines))}
	out.Body.Links = map[string]link{"self": {Href: BasePath + "/hosts/" + in.Name + "/hookRuns/" + in.ID + "/logs"}}
	return out, nil
}

// rebootHost serves POST /api/v1/hosts/{name}/reboot.
func (s *Server) rebootHost(ctx context.Context, in *hostName) (*struct{ Body hookRunDoc }, error) {
	r, err := s.HookRuns.RebootHost(ctx, in.Name)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &struct{ Body hookRunDoc }{newHookRunDoc(r)}, nil
}
