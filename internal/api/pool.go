package api

import (
	"context"
	"maps"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/client"
)

func poolHosts(hs []*purser.Host) []client.PoolHost {
	out := make([]client.PoolHost, len(hs))
	for i, h := range hs {
		out[i] = client.PoolHost{Name: h.Name, Cores: h.Cores, Memory: h.Memory, State: string(h.State), Spare: h.Spare, Joined: h.Joined, Reason: h.Reason}
	}
	return out
}

func size(r purser.Resources) client.PoolSize {
	return client.PoolSize{Cores: r.Cores, Memory: r.Memory}
}

// newPoolDoc is the pool with its hosts (members, then spares).
func newPoolDoc(p *purser.Pool, hosts []*purser.Host) poolDoc {
	members, spares := purser.PoolHosts(p.Name, hosts)
	sel := maps.Clone(p.Selector)
	if sel == nil {
		sel = map[string]string{}
	}
	return poolDoc{Meta: newMeta(p.Name, p.Created, p.Updated, p.ETag(), "pools", "pool"), Name: p.Name, Cores: p.Cores, Memory: p.Memory,
		Spares: p.Spares, Selector: sel, MinHosts: p.MinHosts, MaxHosts: p.MaxHosts, Cluster: p.Cluster, Hooks: hooksDoc(p.Hooks), State: string(p.State), Status: p.Status,
		ScaleStatus: p.ScaleStatus, Halted: p.Halted, Total: size(purser.Total(members)), Hosts: poolHosts(append(members, spares...))}
}

// poolDocument reads the pool's hosts and makes its document.
func (s *Server) poolDocument(ctx context.Context, p *purser.Pool) (poolDoc, error) {
	hosts, _, err := s.Hosts.FindHosts(ctx, purser.Query{Page: 1, MaxResults: purser.MaxMaxResults, SkipTotal: true,
		Where: []purser.Cond{{Field: "pool", Op: "$eq", Value: p.Name}}})
	return newPoolDoc(p, hosts), err
}

type poolOutput struct {
	ETag string `header:"ETag"`
	Body poolDoc
}

func (s *Server) registerPools() {
	huma.Register(s.api, op(http.MethodGet, "/pools", "list-pools", "pools", "List pools (devops, admins)", http.StatusBadRequest), s.listPools)
	c := op(http.MethodPost, "/pools", "create-pool", "pools", "Create a pool from free hosts, or plan one (devops, admins)", http.StatusConflict)
	c.Description = "Hosts are chosen by a deterministic best fit (docs/pools.md): fewest leftover cores, then memory, then name; each spare is " +
		"the best fit for the largest member. With dry_run the answer is 200 with the placement and nothing changes. " +
		"409 when the free inventory cannot hold it: the problem says what is free (for a spare: no spare fits: needs 8 cores and 32 GiB, largest free 4 and 16)."
	c.DefaultStatus = http.StatusCreated
	c.Responses = map[string]*huma.Response{"200": {Description: "A dry run: the placement, nothing created."}}
	huma.Register(s.api, c, s.createPool)
	huma.Register(s.api, cacheable(op(http.MethodGet, "/pools/{name}", "get-pool", "pools", "Get a pool with its hosts and why-not status", http.StatusNotFound)), s.getPool)
	r := op(http.MethodPost, "/pools/{name}/resize", "resize-pool", "pools", "Resize a pool to absolute totals (devops, admins)", http.StatusNotFound, http.StatusConflict)
	r.Description = "Growing takes free hosts by best fit; shrinking releases members, largest first, while the rest still cover the target. " +
		"Growing one resource while shrinking the other answers 422; no change, or a shortfall, 409. A plan that overshoots the target needs yes: true " +
		"(409 saying by how much otherwise). dry_run answers the plan and changes nothing."
	huma.Register(s.api, r, s.resizePool)
	d := op(http.MethodDelete, "/pools/{name}", "destroy-pool", "pools", "Destroy a pool: every host leaves (devops, admins)", http.StatusNotFound)
	d.Description = "204 when every host left and the pool is gone. A host that does not answer (SUSPECT, UNHEALTHY) cannot leave: the answer is then 200 " +
		"with the pool DESTROY_FAILED, its status naming the host; the admins are told, and a later destroy tries again."
	d.DefaultStatus = http.StatusNoContent
	d.Description += " When members run a leave hook, the answer is 202 with the pool DESTROYING: it goes once every leave succeeded, " +
		"or becomes DESTROY_FAILED naming the host whose leave failed."
	d.Responses = map[string]*huma.Response{"200": {Description: "DESTROY_FAILED: the pool, naming the hosts that did not leave."},
		"202": {Description: "DESTROYING: the pool, waiting for its hosts' leave hooks."}}
	huma.Register(s.api, d, s.destroyPool)
	a := op(http.MethodPost, "/pools/{name}/nodes", "add-pool-node", "pools", "Add a free host (or a spare) to a pool (devops, admins)", http.StatusNotFound, http.StatusConflict)
	huma.Register(s.api, a, s.addNode)
	rm := op(http.MethodDelete, "/pools/{name}/nodes/{host}", "remove-pool-node", "pools", "Release a host from a pool to the free inventory (devops, admins)", http.StatusNotFound, http.StatusConflict)
	huma.Register(s.api, rm, s.removeNode)
	dr := op(http.MethodPost, "/pools/{name}/nodes/{host}/drain", "drain-pool-node", "pools", "Drain a member before it leaves (devops, admins)", http.StatusNotFound, http.StatusConflict)
	dr.DefaultStatus = http.StatusAccepted
	dr.Description = "The host becomes DRAINING; the health sweep releases it once drained (until pools have their own Kubernetes API, at its next run)."
	huma.Register(s.api, dr, s.drainNode)
	hk := op(http.MethodPut, "/pools/{name}/hooks", "set-pool-hooks", "pools", "Replace a pool's hooks (devops, admins)", http.StatusNotFound)
	hk.Description = "Runs already queued keep the hooks they were queued with. A hook is an argv list; its arguments may hold " +
		"{{ pool }}, {{ cluster }}, {{ server }}, {{ host }} and {{ address }} (422 for another placeholder, or one in the command)."
	huma.Register(s.api, hk, s.setPoolHooks)
}

func hooksDoc(h purser.PoolHooks) client.PoolHooks {
	return client.PoolHooks{Join: h.Join, Leave: h.Leave, Reboot: h.Reboot}
}

// setPoolHooks serves PUT /api/v1/pools/{name}/hooks.
func (s *Server) setPoolHooks(ctx context.Context, in *struct {
	Name string `path:"name"`
	Body poolHooksBody
}) (*poolOutput, error) {
	p, err := s.Pools.SetPoolHooks(ctx, in.Name, purser.PoolHooks{Join: in.Body.Join, Leave: in.Body.Leave, Reboot: in.Body.Reboot})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	d, err := s.poolDocument(ctx, p)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &poolOutput{ETag: etagOf(d.ETag), Body: d}, nil
}

// listPools serves GET /api/v1/pools.
func (s *Server) listPools(ctx context.Context, in *ListParams) (*struct{ Body collection[poolDoc] }, error) {
	q, err := in.query(purser.PoolFields)
	if err == nil {
		_, err = in.embedded()
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	pools, info, err := s.Pools.FindPools(ctx, q)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &struct{ Body collection[poolDoc] }{}
	out.Body.Items = make([]poolDoc, len(pools))
	for i, p := range pools {
		if out.Body.Items[i], err = s.poolDocument(ctx, p); err != nil {
			return nil, s.problem(ctx, err)
		}
	}
	out.Body.Meta = listMetaOf(q, info)
	out.Body.Links = pageLinks("pools", *in, info)
	return out, nil
}

// createPool serves POST /api/v1/pools.
func (s *Server) createPool(ctx context.Context, in *struct{ Body poolBody }) (*struct {
	Status   int
	Location string `header:"Location"`
	Body     poolCreatedDoc
}, error) {
	b := in.Body
	p := &purser.Pool{Name: b.Name, Cores: b.Cores, Memory: b.Memory, Spares: b.Spares, Selector: b.Selector, MinHosts: b.MinHosts, MaxHosts: b.MaxHosts,
		Cluster: b.Cluster}
	if b.Hooks != nil {
		p.Hooks = purser.PoolHooks{Join: b.Hooks.Join, Leave: b.Hooks.Leave, Reboot: b.Hooks.Reboot}
	}
	plan, err := s.Pools.CreatePool(ctx, p, b.DryRun)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &struct {
		Status   int
		Location string `header:"Location"`
		Body     poolCreatedDoc
	}{Status: http.StatusOK}
	out.Body.Placement = client.PoolPlacement{Members: poolHosts(plan.Members), Spares: poolHosts(plan.Spares), Need: size(plan.Need),
		Total: size(plan.Total), Overshoot: size(plan.Overshoot)}
	if !b.DryRun {
		d, err := s.poolDocument(ctx, p)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		out.Status, out.Location, out.Body.Pool = http.StatusCreated, d.Links["self"].Href, &d
	}
	return out, nil
}

type poolName struct {
	Name string `path:"name"`
}

// getPool serves GET /api/v1/pools/{name}.
func (s *Server) getPool(ctx context.Context, in *poolName) (*poolOutput, error) {
	p, err := s.Pools.FindPoolByName(ctx, in.Name)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	d, err := s.poolDocument(ctx, p)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &poolOutput{ETag: etagOf(d.ETag), Body: d}, nil
}

// resizePool serves POST /api/v1/pools/{name}/resize.
func (s *Server) resizePool(ctx context.Context, in *struct {
	Name string `path:"name"`
	Body poolResizeBody
}) (*struct{ Body resizePlanDoc }, error) {
	plan, err := s.Pools.ResizePool(ctx, in.Name, purser.Resources{Cores: in.Body.Cores, Memory: in.Body.Memory}, in.Body.Yes, in.Body.DryRun)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &struct{ Body resizePlanDoc }{resizePlanDoc{Target: size(plan.Target), Before: size(plan.Before), After: size(plan.After),
		Overshoot: size(plan.Overshoot), Add: poolHosts(plan.Add), Remove: poolHosts(plan.Remove)}}, nil
}

// destroyPool serves DELETE /api/v1/pools/{name}.
func (s *Server) destroyPool(ctx context.Context, in *poolName) (*struct {
	Status int
	Body   *poolDoc
}, error) {
	p, err := s.Pools.DestroyPool(ctx, in.Name)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &struct {
		Status int
		Body   *poolDoc
	}{Status: http.StatusNoContent}
	if p != nil {
		d, err := s.poolDocument(ctx, p)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		out.Status, out.Body = http.StatusOK, &d
		if p.State == purser.PoolDestroying {
			out.Status = http.StatusAccepted
		}
	}
	return out, nil
}

// addNode serves POST /api/v1/pools/{name}/nodes.
func (s *Server) addNode(ctx context.Context, in *struct {
	Name string `path:"name"`
	Body poolNodeBody
}) (*hostOutput, error) {
	h, err := s.Pools.AddNode(ctx, in.Name, in.Body.Host)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return hostOut(h), nil
}

type poolNode struct {
	Name string `path:"name"`
	Host string `path:"host"`
}

// removeNode serves DELETE /api/v1/pools/{name}/nodes/{host}.
func (s *Server) removeNode(ctx context.Context, in *poolNode) (*hostOutput, error) {
	h, err := s.Pools.RemoveNode(ctx, in.Name, in.Host)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return hostOut(h), nil
}

// drainNode serves POST /api/v1/pools/{name}/nodes/{host}/drain.
func (s *Server) drainNode(ctx context.Context, in *struct {
	Name string `path:"name"`
	Host string `path:"host"`
	Body *poolDrainBody
}) (*hostOutput, error) {
	var deadline time.Duration
	if in.Body != nil {
		deadline = time.Duration(in.Body.DeadlineSeconds) * time.Second
	}
	h, err := s.Pools.DrainNode(ctx, in.Name, in.Host, deadline)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return hostOut(h), nil
}
