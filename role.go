package purser

import (
	"context"
	"regexp"
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

var roleRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,100}$`)

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
}
