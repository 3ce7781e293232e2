package ui

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/a-h/templ"

	"github.com/purserhq/purser"
)

// hostRow is a host as the pools pages show it.
type hostRow struct {
	Name, Address, Pool, Role, State, Reason string
	Cores                                    int
	Memory                                   string
	Heartbeat                                relTime
}

func (s *Server) newHostRow(h *purser.Host) hostRow {
	role := "free"
	switch {
	case h.Pool != "" && h.Spare:
		role = "spare"
	case h.Pool != "":
		role = "member"
	}
	return hostRow{Name: h.Name, Address: h.Address, Pool: h.Pool, Role: role, State: string(h.State), Reason: h.Reason,
		Cores: h.Cores, Memory: purser.FormatBytes(h.Memory), Heartbeat: newRelTimePtr(h.LastHeartbeat, s.now())}
}

// poolRow is a pool with what its members provide against what it asks.
type poolRow struct {
	Name, State, Status, ScaleStatus string
	Halted                           bool
	Members, Spares                  int
	Requested                        string
	Bars                             []fitBar
}

const gib = 1 << 30

func newPoolRow(p *purser.Pool, hosts []*purser.Host) poolRow {
	members, spares := purser.PoolHosts(p.Name, hosts)
	have := purser.Total(members)
	row := poolRow{Name: p.Name, State: string(p.State), Status: p.Status, ScaleStatus: p.ScaleStatus, Halted: p.Halted,
		Members: len(members), Spares: len(spares), Requested: sizeText(p.Size())}
	if p.Cores > 0 {
		row.Bars = append(row.Bars, capacityBar("cores", float64(have.Cores), float64(p.Cores), ""))
	}
	if p.Memory > 0 {
		row.Bars = append(row.Bars, capacityBar("memory", float64(have.Memory)/gib, float64(p.Memory)/gib, " GiB"))
	}
	return row
}

// sizeText is what a pool asks: cores, memory or both.
func sizeText(r purser.Resources) string {
	switch {
	case r.Memory == 0:
		return strconv.Itoa(r.Cores) + " cores"
	case r.Cores == 0:
		return purser.FormatBytes(r.Memory)
	}
	return r.String()
}

// allHosts reads the inventory, a page of MaxMaxResults at a time (a
// query per 200 hosts, not per pool).
func (s *Server) allHosts(r *http.Request, where ...purser.Cond) ([]*purser.Host, error) {
	var out []*purser.Host
	for page := 1; page <= 10; page++ {
		hs, _, err := s.Hosts.FindHosts(r.Context(), purser.Query{Where: where, Sort: []purser.Sort{{Field: "name"}}, Page: page,
			MaxResults: purser.MaxMaxResults, SkipTotal: true})
		if err != nil {
			return nil, err
		}
		out = append(out, hs...)
		if len(hs) < purser.MaxMaxResults {
			break
		}
	}
	return out, nil
}

// poolListData is the pools page's.
type poolListData struct {
	Pools []poolRow
	Hosts []hostRow
	Free  int
}

func (d poolListData) content(page) templ.Component { return poolsPage(d) }

// poolList serves GET /pools: each pool's capacity as bars, and the
// hosts with their state and last heartbeat: one query for the pools, one
// per 200 hosts.
func (s *Server) poolList(w http.ResponseWriter, r *http.Request) {
	ps, _, err := s.Pools.FindPools(r.Context(), purser.Query{Sort: []purser.Sort{{Field: "name"}}, Page: 1, MaxResults: purser.MaxMaxResults, SkipTotal: true})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	hosts, err := s.allHosts(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := poolListData{}
	for _, p := range ps {
		d.Pools = append(d.Pools, newPoolRow(p, hosts))
	}
	for _, h := range hosts {
		d.Hosts = append(d.Hosts, s.newHostRow(h))
		if h.Free() {
			d.Free++
		}
	}
	s.render(w, r, http.StatusOK, "pools", "Pools", d)
}

// poolDetailData is a pool's page's.
type poolDetailData struct {
	Pool                       poolRow
	Selector                   string
	MinHosts, MaxHosts, Spares string
	Hosts                      []hostRow
}

func (d poolDetailData) content(page) templ.Component { return poolPage(d) }

// poolDetail serves GET /pools/{name}: its capacity, why not (what it
// holds back and why), and its hosts.
func (s *Server) poolDetail(w http.ResponseWriter, r *http.Request) {
	p, err := s.Pools.FindPoolByName(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	hosts, err := s.allHosts(r, eq("pool", p.Name))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := poolDetailData{Pool: newPoolRow(p, hosts), MinHosts: strconv.Itoa(p.MinHosts), MaxHosts: "no maximum",
		Spares: strconv.Itoa(p.Spares)}
	if p.MaxHosts > 0 {
		d.MaxHosts = strconv.Itoa(p.MaxHosts)
	}
	for _, k := range sortedKeys(p.Selector) {
		if d.Selector != "" {
			d.Selector += ", "
		}
		d.Selector += k + "=" + p.Selector[k]
	}
	for _, h := range hosts {
		d.Hosts = append(d.Hosts, s.newHostRow(h))
	}
	s.render(w, r, http.StatusOK, "pools", "Pool "+p.Name, d)
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
