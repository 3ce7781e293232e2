package purser

import (
	"maps"
	"time"
)

// HostCredential is the Row of an agent's credential: the hash of the
// secret registration returned, which authenticates the agent as its
// host's (Actor.Host) and nothing else.
type HostCredential struct {
	Host string
	Hash string
}

// Register decides a host's registration by its agent with a join token
// at now: the token counts the use (EUNAUTHORIZED when it is revoked,
// expired or used up), the host is created free and READY, or, when
// existing is the host registering again (an agent restarted), its facts
// are refreshed and it keeps its pool. A retired host's name cannot come
// back (ECONFLICT). It returns the host, the agent's new credential (the
// only copy: only its hash is kept) and the Change.
func Register(tok *JoinToken, existing *Host, reported Host, now time.Time) (*Host, string, Change, error) {
	used, err := tok.Use(now)
	if err != nil {
		return nil, "", Change{}, err
	}
	if err := reported.Validate(); err != nil {
		return nil, "", Change{}, err
	}
	h := &Host{Name: reported.Name, State: HostReady, Reason: "registered", Meta: Meta{ID: NewID(), Created: now}}
	action := "host.register"
	var before map[string]any
	if existing != nil {
		if existing.State == HostRetired {
			return nil, "", Change{}, Errorf(ECONFLICT, "host %s is retired: register the machine under another name", existing.Name)
		}
		h, action, before = existing.copy(), "host.register_again", existing.doc()
		if h.State == HostSuspect || h.State == HostUnhealthy {
			h.State = h.settled()
		}
		h.Reason = "registered again"
	}
	h.Address, h.Cores, h.Memory, h.LastHeartbeat = reported.Address, reported.Cores, reported.Memory, &now
	if reported.Labels != nil || h.Labels == nil {
		h.Labels = maps.Clone(reported.Labels)
	}
	secret := NewSecret(AgentPrefix)
	return h, secret, Change{
		Rows:   []Row{used, h, HostCredential{Host: h.Name, Hash: HashToken(secret)}},
		Events: []AuditEvent{{Action: action, TargetType: "host", TargetID: h.Name, Before: before, After: h.doc()}},
	}, nil
}

func (h *Host) copy() *Host {
	c := *h
	c.Labels = maps.Clone(h.Labels)
	return &c
}

// AuthorizeAgent returns nil when the actor is the agent of host: only it
// sends the host's heartbeats and reports its hooks' results. Users,
// whatever their roles, are refused (EFORBIDDEN), as is another host's
// agent.
func (a *Actor) AuthorizeAgent(host string) error {
	if a == nil || (!a.System && a.User == nil && a.Host == "") {
		return Errorf(EUNAUTHORIZED, "authentication required")
	}
	if a.IsAgentFor(host) || a.System {
		return nil
	}
	return Errorf(EFORBIDDEN, "only host %s's agent reports for it", host)
}

// AuthorizeHostRead returns nil when the actor may read the host: with
// hosts:read, or as its own agent.
func (a *Actor) AuthorizeHostRead(host string) error {
	if a.IsAgentFor(host) {
		return nil
	}
	return a.Authorize(ActionHostRead, "")
}

func (*Host) isRow()           {}
func (HostHeartbeat) isRow()   {}
func (HostCredential) isRow()  {}
func (*JoinToken) isRow()      {}
func (NewJoinTokenRow) isRow() {}
