package purser

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Role is a named set of rights. The built-in roles are admin, devops and dev.
type Role struct {
	Role        string
	Description string
	IsActive    bool
	BuiltIn     bool
	Created     time.Time
	Updated     time.Time
}

// Built-in roles.
const (
	RoleAdmin  = "admin"
	RoleDevOps = "devops"
	RoleDev    = "dev"
)

var roleRE = boundedPattern(`^[a-zA-Z0-9_-]+$`, 1, 100)

// Validate checks the role's fields.
func (r *Role) Validate() error {
	var fe []FieldError
	if r.Role == "" {
		fe = append(fe, FieldError{"role", "required", "is required"})
	} else if !roleRE.MatchString(r.Role) {
		fe = append(fe, FieldError{"role", "pattern", "must be 1 to 100 letters, digits, '_' or '-'"})
	}
	if len(r.Description) > 200 {
		fe = append(fe, FieldError{"description", "max_length", "must be at most 200 characters"})
	}
	if len(fe) > 0 {
		return Invalid(fe...)
	}
	return nil
}

// RoleFields are the fields of roles that where and sort may name.
var RoleFields = Fields{
	"_id": KindString, "role": KindString, "description": KindString,
	"is_active": KindBool, "built_in": KindBool, "_created": KindTime, "_updated": KindTime,
}

// RoleService manages roles. Every method authorizes the actor in ctx:
// reading needs roles:read, creating roles:write (admins).
type RoleService interface {
	// FindRoleByName returns the role, or ENOTFOUND.
	FindRoleByName(ctx context.Context, name string) (*Role, error)
	// FindRoles returns a page of roles, and how many match q in all.
	FindRoles(ctx context.Context, q Query) ([]*Role, PageInfo, error)
	// CreateRole creates a role. Creating a built-in role again is not an
	// error: it returns the existing role and created == false. ECONFLICT
	// when another role has the name.
	CreateRole(ctx context.Context, r *Role) (created bool, err error)
	// UpdateRole applies upd when ifMatch is "" or the role's current ETag
	// (EPRECONDITION otherwise) and returns the role; ENOTFOUND when there
	// is none, ECONFLICT when upd would deactivate a built-in role.
	UpdateRole(ctx context.Context, name string, upd RoleUpdate, ifMatch string) (*Role, error)
	// DeleteRole removes a role; ECONFLICT for a built-in role and for one
	// still held by a user, named by a quota or granted a permission by
	// the configuration (the message says which); ENOTFOUND when there is
	// none.
	DeleteRole(ctx context.Context, name string) error
}

// ETag is the role's version tag: it changes whenever the role does.
func (r *Role) ETag() string { return Meta{ID: "role-" + r.Role, Updated: r.Updated}.ETag() }

// RoleUpdate is a partial update of a role: nil fields stay.
type RoleUpdate struct {
	Description *string
	IsActive    *bool
}

// roleDoc is the role as audit events keep it.
func (r *Role) doc() map[string]any {
	return map[string]any{"role": r.Role, "description": r.Description, "is_active": r.IsActive, "built_in": r.BuiltIn}
}

// Update decides what applying upd to r at now implies: the role as it
// becomes (a Row) and its audit event. A built-in role stays active, as
// the rules of authorization name it; its description may change.
func (r *Role) Update(upd RoleUpdate, now time.Time) (*Role, Change, error) {
	after := *r
	if upd.Description != nil {
		after.Description = *upd.Description
	}
	if upd.IsActive != nil {
		after.IsActive = *upd.IsActive
	}
	if r.BuiltIn && !after.IsActive {
		return nil, Change{}, &Error{Code: ECONFLICT, Message: "role " + r.Role + " is built in: it cannot be deactivated",
			Fields: []FieldError{{Field: "is_active", Rule: "built_in", Message: "a built-in role stays active"}}}
	}
	if err := after.Validate(); err != nil {
		return nil, Change{}, err
	}
	after.Updated = now
	return &after, Change{Rows: []Row{&after}, Events: []AuditEvent{{Action: "role.update", TargetType: "role", TargetID: r.Role,
		Before: r.doc(), After: after.doc()}}}, nil
}

// RoleUse is what still refers to a role: the usernames holding it, the
// quotas (ids) naming it, and the permissions the configuration grants it.
type RoleUse struct {
	Users       []string
	Quotas      []string
	Permissions []string
}

// DeletedRole is the Row of a role's removal.
type DeletedRole struct{ Role string }

// Delete decides removing r, given what still uses it: refused (ECONFLICT)
// for a built-in role and for a role in use, saying what uses it.
func (r *Role) Delete(use RoleUse) (Change, error) {
	if r.BuiltIn {
		return Change{}, Errorf(ECONFLICT, "role %s is built in and cannot be deleted", r.Role)
	}
	var parts []string
	if n := len(use.Users); n > 0 {
		parts = append(parts, fmt.Sprintf("%d user(s) hold it (%s)", n, examples(use.Users)))
	}
	if n := len(use.Quotas); n > 0 {
		parts = append(parts, fmt.Sprintf("%d quota(s) name it (%s)", n, examples(use.Quotas)))
	}
	if n := len(use.Permissions); n > 0 {
		parts = append(parts, fmt.Sprintf("the server's configuration (permissions) grants it %s", strings.Join(use.Permissions, ", ")))
	}
	if len(parts) > 0 {
		return Change{}, Errorf(ECONFLICT, "role %s is still in use: %s; remove those first, or deactivate it (is_active false)", r.Role, strings.Join(parts, "; "))
	}
	return Change{Rows: []Row{DeletedRole{r.Role}}, Events: []AuditEvent{{Action: "role.delete", TargetType: "role", TargetID: r.Role, Before: r.doc()}}}, nil
}

// examples lists up to three of names, and how many more.
func examples(names []string) string {
	if len(names) <= 3 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:3], ", "), len(names)-3)
}
