package purser

import "context"

// Actor is who makes a call: a user, through a token or a session.
type Actor struct {
	User    *User
	TokenID string
	// System marks Purser's own workers and bootstrap, which act for no user.
	System bool
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

// Actions. Each is granted to roles in Rules; "self" variants apply to the
// actor's own documents.
const (
	ActionUserRead      Action = "users:read"
	ActionUserWrite     Action = "users:write"
	ActionRoleRead      Action = "roles:read"
	ActionRoleWrite     Action = "roles:write"
	ActionTokenAnyUser  Action = "tokens:any_user" // manage other users' tokens
	ActionTemplateWrite Action = "templates:write"
	ActionTemplateExec  Action = "templates:exec"  // create or change a template whose driver runs commands (exec)
	ActionRequestReview Action = "requests:review" // approve, reject, see every request
	ActionRequestAny    Action = "requests:any"    // act on others' requests (purge, retry)
	ActionRequestRevoke Action = "requests:revoke" // revoke others' requests waiting for review
	ActionExpiryRun     Action = "expiry:run"      // run the expiry sweep now
	ActionQuotaWrite    Action = "quotas:write"
	ActionQuotaRead     Action = "quotas:read" // every user's usage
	ActionEventsRead    Action = "events:read" // the whole audit log
	ActionOutputsAny    Action = "outputs:any" // read anyone's environment outputs
	ActionClusterRead   Action = "clusters:read"
	ActionClusterWrite  Action = "clusters:write"
)

// Rules grants each action to roles. An actor acting on its own user (its
// profile, its tokens) needs no rule: see Authorize.
var Rules = map[Action][]string{
	ActionUserRead:      {RoleAdmin, RoleDevOps},
	ActionUserWrite:     {RoleAdmin},
	ActionRoleRead:      {RoleAdmin, RoleDevOps, RoleDev},
	ActionRoleWrite:     {RoleAdmin},
	ActionTokenAnyUser:  {RoleAdmin},
	ActionTemplateWrite: {RoleAdmin, RoleDevOps},
	ActionTemplateExec:  {RoleAdmin},
	ActionRequestReview: {RoleAdmin, RoleDevOps},
	ActionRequestAny:    {RoleAdmin, RoleDevOps},
	ActionRequestRevoke: {RoleAdmin},
	ActionExpiryRun:     {RoleAdmin},
	ActionQuotaWrite:    {RoleAdmin, RoleDevOps},
	ActionQuotaRead:     {RoleAdmin, RoleDevOps},
	ActionEventsRead:    {RoleAdmin, RoleDevOps},
	ActionOutputsAny:    {RoleAdmin},
	ActionClusterRead:   {RoleAdmin, RoleDevOps},
	ActionClusterWrite:  {RoleAdmin, RoleDevOps},
}

// Can reports whether the actor may perform the action. System actors may
// do anything; inactive users nothing.
func (a *Actor) Can(action Action) bool {
	return a.canAs(Rules[action])
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
		return false
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
	if a == nil || (!a.System && a.User == nil) {
		return Errorf(EUNAUTHORIZED, "authentication required")
	}
	if a.canAs(roles) || (ownerID != "" && a.IsUser(ownerID) && a.User.IsActive) {
		return nil
	}
	return Errorf(EFORBIDDEN, "your roles do not allow %s", action)
}
