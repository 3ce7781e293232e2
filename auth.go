package purser

import "context"

// Actor is who makes a call: a user (through a token or a session),
// Purser itself, or an agent.
type Actor struct {
	User    *User
	TokenID string
	// System marks Purser's own workers and bootstrap, which act for no user.
	System bool
	// Host, when set, makes the actor an agent: the daemon of an in-house
	// host, acting for that host only. An agent is no user and holds no
	// role, so no action of Rules is granted to it.
	Host string
}

// IsAgentFor reports whether the actor is the agent of the host.
func (a *Actor) IsAgentFor(host string) bool {
	return a != nil && a.Host != "" && a.Host == host
}

type actorKey struct{}

// NewContextWithActor returns ctx carrying the actor.
func NewContextWithActor(ctx context.Context, a *Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFromContext returns the actor in ctx, or nil.
func ActorFromContext(ctx context.Context) *Actor {
	a, _ := ctx.Value(actorKey{}).(*Actor)
	return a
}

// SystemContext returns ctx acting as Purser itself (workers, bootstrap).
func SystemContext(ctx context.Context) context.Context {
	return NewContextWithActor(ctx, &Actor{System: true})
}

// Action is something an actor may be allowed to do.
type Action string

// Actions: one per operation. Each is granted to roles in Rules; an
// actor acting on its own documents needs no rule where Authorize is
// given the owner.
const (
	ActionUserRead         Action = "users:read"        // read others' profiles, list users
	ActionUserWrite        Action = "users:write"       // create users, change others' (and anyone's roles or activity)
	ActionActForOthers     Action = "users:act_for"     // name another user in requested_by or reviewed_by
	ActionRoleRead         Action = "roles:read"        // read roles
	ActionRoleWrite        Action = "roles:write"       // create, change, delete roles
	ActionTokenAnyUser     Action = "tokens:any_user"   // manage other users' tokens
	ActionTemplateRead     Action = "templates:read"    // read the catalog
	ActionTemplateWrite    Action = "templates:write"   // create, change, delete templates
	ActionTemplateExec     Action = "templates:exec"    // create or change a template whose driver runs commands (exec)
	ActionRequestRead      Action = "requests:read"     // read others' provision and extension requests
	ActionRequestReview    Action = "requests:review"   // approve or reject provision and extension requests
	ActionRequestRevoke    Action = "requests:revoke"   // revoke others' requests waiting for review
	ActionRequestRetry     Action = "requests:retry"    // retry others' failed provisioning or purge
	ActionRequestPurge     Action = "requests:purge"    // purge others' environments
	ActionOutputsAny       Action = "outputs:any"       // read anyone's environment outputs
	ActionExpiryRun        Action = "expiry:run"        // run the expiry sweep now
	ActionQuotaRead        Action = "quotas:read"       // every user's quotas and usage
	ActionQuotaWrite       Action = "quotas:write"      // create, change, delete quotas
	ActionEventsRead       Action = "events:read"       // the whole audit log
	ActionPreferencesRead  Action = "preferences:read"  // read others' notification preferences
	ActionPreferencesWrite Action = "preferences:write" // change others' notification preferences
	ActionClusterRead      Action = "clusters:read"     // read clusters
	ActionClusterWrite     Action = "clusters:write"    // register, change, delete clusters
	ActionStackRead        Action = "stacks:read"       // read clusters' stacks, revisions, services and secret names
	ActionStackWrite       Action = "stacks:write"      // propose, roll back, unblock revisions; set and delete cluster secrets
	ActionStackApply       Action = "stacks:apply"      // the reconciler's: mark revisions, record actual services, resolve secrets
	ActionHostRead         Action = "hosts:read"        // read the inventory of hosts
	ActionHostWrite        Action = "hosts:write"       // label, maintain and retire hosts
	ActionPoolRead         Action = "pools:read"        // read pools and their plans
	ActionPoolWrite        Action = "pools:write"       // create, resize, destroy pools; add, drain, remove nodes
	ActionPoolHooks        Action = "pools:hooks"       // set the commands a pool's agents run on their hosts (join, leave, reboot)
	ActionJoinTokenWrite   Action = "join_tokens:write" // create, list and revoke the join tokens agents register with
)

// Rules grants each action to roles. An actor acting on its own documents
// (its profile, tokens, requests, preferences) needs no rule: see
// Authorize.
var Rules = map[Action][]string{
	ActionUserRead:         {RoleAdmin, RoleDevOps},
	ActionUserWrite:        {RoleAdmin},
	ActionActForOthers:     {RoleAdmin},
	ActionRoleRead:         {RoleAdmin, RoleDevOps, RoleDev},
	ActionRoleWrite:        {RoleAdmin},
	ActionTokenAnyUser:     {RoleAdmin},
	ActionTemplateRead:     {RoleAdmin, RoleDevOps, RoleDev},
	ActionTemplateWrite:    {RoleAdmin, RoleDevOps},
	ActionTemplateExec:     {RoleAdmin},
	ActionRequestRead:      {RoleAdmin, RoleDevOps},
	ActionRequestReview:    {RoleAdmin, RoleDevOps},
	ActionRequestRevoke:    {RoleAdmin},
	ActionRequestRetry:     {RoleAdmin, RoleDevOps},
	ActionRequestPurge:     {RoleAdmin, RoleDevOps},
	ActionOutputsAny:       {RoleAdmin},
	ActionExpiryRun:        {RoleAdmin},
	ActionQuotaRead:        {RoleAdmin, RoleDevOps},
	ActionQuotaWrite:       {RoleAdmin, RoleDevOps},
	ActionEventsRead:       {RoleAdmin, RoleDevOps},
	ActionPreferencesRead:  {RoleAdmin},
	ActionPreferencesWrite: {RoleAdmin},
	ActionClusterRead:      {RoleAdmin, RoleDevOps},
	ActionClusterWrite:     {RoleAdmin, RoleDevOps},
	ActionStackRead:        {RoleAdmin, RoleDevOps, RoleDev},
	ActionStackWrite:       {RoleAdmin, RoleDevOps},
	ActionStackApply:       {}, // Purser's reconciler only: no role reads secret values
	ActionHostRead:         {RoleAdmin, RoleDevOps},
	ActionHostWrite:        {RoleAdmin, RoleDevOps},
	ActionPoolRead:         {RoleAdmin, RoleDevOps},
	ActionPoolWrite:        {RoleAdmin, RoleDevOps},
	// Hooks run as commands on every member's machine: the admins' own,
	// as exec templates are (templates:exec).
	ActionPoolHooks:      {RoleAdmin},
	ActionJoinTokenWrite: {RoleAdmin, RoleDevOps},
}

// EveryUser are the actions granted to every active user, whatever their
// roles: a cluster's deployers (named by any role) read the stack they
// change.
var EveryUser = map[Action]bool{ActionStackRead: true}

// Can reports whether the actor may perform the action. System actors may
// do anything; inactive users nothing.
func (a *Actor) Can(action Action) bool {
	return a.canAs(Rules[action]) || a.isEveryUser(action)
}

// isEveryUser reports whether the action is granted to every active user
// and the actor is one.
func (a *Actor) isEveryUser(action Action) bool {
	return EveryUser[action] && a != nil && a.User != nil && a.User.IsActive
}

// canAs reports whether the actor holds one of the roles, or is the system.
func (a *Actor) canAs(roles []string) bool {
	if a == nil {
		return false
	}
	if a.System {
		return true
	}
	if a.User == nil || !a.User.IsActive {
		return false // agents hold no role
	}
	for _, role := range roles {
		if a.User.HasRole(role) {
			return true
		}
	}
	return false
}

// IsUser reports whether the actor is the user with the id.
func (a *Actor) IsUser(id string) bool {
	return a != nil && a.User != nil && a.User.ID == id
}

// Authorize returns nil when the actor in ctx may perform the action, or
// when ownerID names the actor itself and self is allowed; EUNAUTHORIZED
// when there is no actor and EFORBIDDEN otherwise.
func Authorize(ctx context.Context, action Action, ownerID string) error {
	return AuthorizeRoles(ctx, action, Rules[action], ownerID)
}

// AuthorizeRoles is Authorize with the roles granted the action given by
// the caller (from the server's configuration) instead of taken from
// Rules, so that configuration never has to change a package variable.
func AuthorizeRoles(ctx context.Context, action Action, roles []string, ownerID string) error {
	return ActorFromContext(ctx).authorizeRoles(action, roles, ownerID)
}

// Authorize returns nil when the actor may perform the action, or when
// ownerID names the actor itself; EUNAUTHORIZED for no actor and
// EFORBIDDEN otherwise. A nil actor is no one.
func (a *Actor) Authorize(action Action, ownerID string) error {
	return a.authorizeRoles(action, Rules[action], ownerID)
}

func (a *Actor) authorizeRoles(action Action, roles []string, ownerID string) error {
	if a == nil || (!a.System && a.User == nil && a.Host == "") {
		return Errorf(EUNAUTHORIZED, "authentication required")
	}
	if a.canAs(roles) || a.isEveryUser(action) || (ownerID != "" && a.IsUser(ownerID) && a.User.IsActive) {
		return nil
	}
	return Errorf(EFORBIDDEN, "your roles do not allow %s", action)
}

// CanReview decides whether the actor may review (approve or reject) a
// request of requester's, and who the reviewer is: the actor's own user,
// or for the system the user named. It combines the requests:review
// action with CheckReview's rules.
func (a *Actor) CanReview(named, requester *User, approve bool) (*User, error) {
	if err := a.Authorize(ActionRequestReview, ""); err != nil {
		return nil, err
	}
	reviewer := named
	if a.User != nil {
		reviewer = a.User
	}
	if reviewer == nil {
		return nil, Invalid(FieldError{Field: "reviewed_by", Rule: "required", Message: "is required"})
	}
	return reviewer, CheckReview(reviewer, requester, approve)
}

// CanActFor decides whether the actor may name the user named in a body's
// field (requested_by, reviewed_by): itself always, another user only with
// users:act_for (admins, and the system). actingFor is named when the
// actor acts for someone else, for the audit; "" when named is the actor.
// The system must name someone: it is nobody.
func (a *Actor) CanActFor(named, field string) (actingFor string, err error) {
	if a == nil || (a.User == nil && !a.System) {
		return "", Errorf(EUNAUTHORIZED, "authentication required")
	}
	if named == "" || a.IsUser(named) {
		if a.User == nil {
			return "", Invalid(FieldError{Field: field, Rule: "required", Message: "is required"})
		}
		return "", nil
	}
	if !a.Can(ActionActForOthers) {
		return "", &Error{Code: EFORBIDDEN, Message: field + " must be you (only admins act for others)",
			Fields: []FieldError{{Field: field, Rule: "self", Message: "must name the caller"}}}
	}
	return named, nil
}

// Scope is which documents a list shows an actor: every one (All), or
// only those owned by (or, for events, done by) User.
type Scope struct {
	All  bool
	User string
}

// ListScope decides the scope of a list guarded by the action (e.g.
// requests:read for requests and extensions, events:read for the audit
// log): everything for an actor granted it, else the user's own; an
// EUNAUTHORIZED error for an actor that is no user (an agent lists
// nothing yet).
func (a *Actor) ListScope(action Action) (Scope, error) {
	if a.Can(action) {
		return Scope{All: true}, nil
	}
	if a == nil || a.User == nil {
		return Scope{}, Errorf(EUNAUTHORIZED, "authentication required")
	}
	return Scope{User: a.User.ID}, nil
}
