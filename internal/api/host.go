package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser"
)

func newHostDoc(h *purser.Host) hostDoc {
	labels := h.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return hostDoc{Meta: newMeta(h.Name, h.Created, h.Updated, h.ETag(), "hosts", "host"), Name: h.Name, Address: h.Address,
		Cores: h.Cores, Memory: h.Memory, Labels: labels, State: string(h.State), Pool: h.Pool, Spare: h.Spare, Joined: h.Joined, Reason: h.Reason,
		LastHeartbeat: h.LastHeartbeat}
}

type hostOutput struct {
	ETag string `header:"ETag"`
	Body hostDoc
}

func hostOut(h *purser.Host) *hostOutput {
	d := newHostDoc(h)
	return &hostOutput{ETag: etagOf(d.ETag), Body: d}
}

func (s *Server) registerHosts() {
	huma.Register(s.api, op(http.MethodGet, "/hosts", "list-hosts", "hosts", "List the inventory of hosts (devops, admins)", http.StatusBadRequest), s.listHosts)
	reg := op(http.MethodPost, "/hosts", "register-host", "hosts", "Register a host (its agent, with a join token)", http.StatusConflict)
	reg.Description = "The agent (`purser agent`) registers its host with a join token in the body and no other credential; " +
		"the answer carries the agent's own credential, a bearer token for this host's heartbeats only. Registering an existing name again " +
		"(an agent restarted) refreshes its facts and keeps its pool; a retired name answers 409. A bad, revoked, expired or used join token answers 401."
	reg.DefaultStatus = http.StatusCreated
	reg.Security = nil
	huma.Register(s.api, reg, s.registerHost)
	huma.Register(s.api, cacheable(op(http.MethodGet, "/hosts/{name}", "get-host", "hosts", "Get a host (devops, admins, its agent)", http.StatusNotFound)), s.getHost)
	huma.Register(s.api, op(http.MethodPost, "/hosts/{name}/heartbeat", "heartbeat-host", "hosts", "Report the host alive (its agent only)", http.StatusNotFound), s.heartbeatHost)
	huma.Register(s.api, op(http.MethodPatch, "/hosts/{name}", "label-host", "hosts", "Set or remove a host's labels (JSON merge patch; devops, admins)", http.StatusNotFound), s.labelHost)
	m := op(http.MethodPost, "/hosts/{name}/maintenance", "maintain-host", "hosts", "Put a free host under maintenance, or back (devops, admins)", http.StatusNotFound, http.StatusConflict)
	m.Description = "A host under maintenance is not watched by heartbeats and nothing is placed on it. A pool's member answers 409: remove it from the pool first."
	huma.Register(s.api, m, s.maintainHost)
	r := op(http.MethodPost, "/hosts/{name}/retire", "retire-host", "hosts", "Retire a free host for good (devops, admins)", http.StatusNotFound, http.StatusConflict)
	r.Description = "Its agent's credential stops working and its name cannot register again. A pool's member answers 409."
	huma.Register(s.api, r, s.retireHost)

	huma.Register(s.api, op(http.MethodGet, "/joinTokens", "list-join-tokens", "hosts", "List join tokens (devops, admins)", http.StatusBadRequest), s.listJoinTokens)
	c := op(http.MethodPost, "/joinTokens", "create-join-token", "hosts", "Create a join token for agents (devops, admins)")
	c.Description = "The secret is in the answer only: keep it. One-time by default; reusable tokens register any number of hosts until they expire (default 24 h, at most 720 h)."
	c.DefaultStatus = http.StatusCreated
	huma.Register(s.api, c, s.createJoinToken)
	d := op(http.MethodDelete, "/joinTokens/{id}", "revoke-join-token", "hosts", "Revoke a join token (devops, admins)", http.StatusNotFound)
	d.DefaultStatus = http.StatusNoContent
	huma.Register(s.api, d, s.revokeJoinToken)
}

// listHosts serves GET /api/v1/hosts.
func (s *Server) listHosts(ctx context.Context, in *ListParams) (*struct{ Body collection[hostDoc] }, error) {
	q, err := in.query(purser.HostFields)
	if err == nil {
		_, err = in.embedded()
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	hosts, info, err := s.Hosts.FindHosts(ctx, q)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &struct{ Body collection[hostDoc] }{}
	out.Body.Items = make([]hostDoc, len(hosts))
	for i, h := range hosts {
		out.Body.Items[i] = newHostDoc(h)
	}
	out.Body.Meta = listMetaOf(q, info)
	out.Body.Links = pageLinks("hosts", *in, info)
	return out, nil
}

// registerHost serves POST /api/v1/hosts: an agent registers its host.
func (s *Server) registerHost(ctx context.Context, in *struct{ Body hostRegistrationBody }) (*struct {
	Location string `header:"Location"`
	Body     hostRegisteredDoc
}, error) {
	b := in.Body
	h, cred, err := s.Hosts.RegisterHost(ctx, b.JoinToken, purser.Host{Name: b.Name, Address: b.Address, Cores: b.Cores, Memory: b.Memory, Labels: b.Labels})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	d := newHostDoc(h)
	return &struct {
		Location string `header:"Location"`
		Body     hostRegisteredDoc
	}{Location: d.Links["self"].Href, Body: hostRegisteredDoc{Host: d, Credential: cred}}, nil
}

type hostName struct {
	Name string `path:"name"`
}

// getHost serves GET /api/v1/hosts/{name}.
func (s *Server) getHost(ctx context.Context, in *hostName) (*hostOutput, error) {
	h, err := s.Hosts.FindHostByName(ctx, in.Name)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return hostOut(h), nil
}

// heartbeatHost serves POST /api/v1/hosts/{name}/heartbeat.
func (s *Server) heartbeatHost(ctx context.Context, in *hostName) (*hostOutput, error) {
	h, err := s.Hosts.Heartbeat(ctx, in.Name)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return hostOut(h), nil
}

// labelHost serves PATCH /api/v1/hosts/{name}.
func (s *Server) labelHost(ctx context.Context, in *struct {
	Name string        `path:"name"`
	Body hostPatchBody `contentType:"application/merge-patch+json"`
}) (*hostOutput, error) {
	h, err := s.Hosts.LabelHost(ctx, in.Name, in.Body.Labels)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return hostOut(h), nil
}

// maintainHost serves POST /api/v1/hosts/{name}/maintenance.
func (s *Server) maintainHost(ctx context.Context, in *struct {
	Name string `path:"name"`
	Body hostMaintenanceBody
}) (*hostOutput, error) {
	h, err := s.Hosts.SetMaintenance(ctx, in.Name, in.Body.Maintenance)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return hostOut(h), nil
}

// retireHost serves POST /api/v1/hosts/{name}/retire.
func (s *Server) retireHost(ctx context.Context, in *hostName) (*hostOutput, error) {
	h, err := s.Hosts.RetireHost(ctx, in.Name)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return hostOut(h), nil
}

func newJoinTokenDoc(t *purser.JoinToken) joinTokenDoc {
	m := newMeta(t.ID, t.Created, t.Created, purser.Meta{ID: t.ID, Version: int64(t.Uses), Updated: t.Created}.ETag(), "joinTokens", "join token")
	return joinTokenDoc{Meta: m, Description: t.Description, Hint: t.Hint, Reusable: t.Reusable, ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt,
		Uses: t.Uses, LastUsedAt: t.LastUsedAt}
}

// listJoinTokens serves GET /api/v1/joinTokens.
func (s *Server) listJoinTokens(ctx context.Context, in *ListParams) (*struct{ Body collection[joinTokenDoc] }, error) {
	q, err := in.query(purser.JoinTokenFields)
	if err == nil {
		_, err = in.embedded()
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	toks, info, err := s.JoinTokens.FindJoinTokens(ctx, q)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &struct{ Body collection[joinTokenDoc] }{}
	out.Body.Items = make([]joinTokenDoc, len(toks))
	for i, t := range toks {
		out.Body.Items[i] = newJoinTokenDoc(t)
	}
	out.Body.Meta = listMetaOf(q, info)
	out.Body.Links = pageLinks("joinTokens", *in, info)
	return out, nil
}

// createJoinToken serves POST /api/v1/joinTokens.
func (s *Server) createJoinToken(ctx context.Context, in *struct{ Body joinTokenBody }) (*struct{ Body joinTokenSecretDoc }, error) {
	t, secret, err := s.JoinTokens.CreateJoinToken(ctx, in.Body.Description, in.Body.Reusable, time.Duration(in.Body.TTLHours)*time.Hour)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &struct{ Body joinTokenSecretDoc }{joinTokenSecretDoc{JoinToken: newJoinTokenDoc(t), Token: secret}}, nil
}

// revokeJoinToken serves DELETE /api/v1/joinTokens/{id}.
func (s *Server) revokeJoinToken(ctx context.Context, in *struct {
	ID string `path:"id"`
}) (*struct{}, error) {
	_, err := s.JoinTokens.RevokeJoinToken(ctx, in.ID)
	return nil, s.problemOrNil(ctx, err)
}
