package purser

import (
	"context"
	"net/mail"
)

// User is a person who uses Purser. Roles name Role documents.
type User struct {
	Meta
	Username string
	Name     string
	Email    string
	Roles    []string
	IsActive bool
}

// HasRole reports whether the user holds the role.
func (u *User) HasRole(role string) bool {
	for _, r := range u.Roles {
		if r == role {
			return true
		}
	}
	return false
}

var usernameRE = boundedPattern(`^[a-z0-9][a-z0-9._-]*$`, 1, 100)

// Validate checks the user's own fields (not whether its roles exist).
func (u *User) Validate() error {
	var fe []FieldError
	if u.Username == "" {
		fe = append(fe, FieldError{"username", "required", "is required"})
	} else if !usernameRE.MatchString(u.Username) {
		fe = append(fe, FieldError{"username", "pattern", "must be 1 to 100 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"})
	}
	if len(u.Name) > 100 {
		fe = append(fe, FieldError{"name", "max_length", "must be at most 100 characters"})
	}
	if u.Email != "" {
		if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
			fe = append(fe, FieldError{"email", "format", "must be an email address like name@example.com"})
		}
	}
	seen := map[string]bool{}
	for i, r := range u.Roles {
		if seen[r] {
			fe = append(fe, FieldError{fieldIndex("roles", i), "unique", "names role " + r + " twice"})
		}
		seen[r] = true
	}
	if len(fe) > 0 {
		return Invalid(fe...)
	}
	return nil
}

// UserUpdate is a partial update: nil fields are left as they are.
type UserUpdate struct {
	Name     *string
	Email    *string
	Roles    *[]string
	IsActive *bool
}

// UserFields are the fields of users that where and sort may name.
var UserFields = Fields{
	"_id": KindString, "_created": KindTime, "_updated": KindTime,
	"username": KindString, "name": KindString, "email": KindString,
	"is_active": KindBool, "roles": KindString,
}

// UserService manages users. Every method authorizes the actor in ctx.
type UserService interface {
	// FindUserByID returns the user, or ENOTFOUND: the caller itself, or
	// anyone for admins and devops (users:read); EFORBIDDEN otherwise.
	FindUserByID(ctx context.Context, id string) (*User, error)
	// FindUsers returns a page of users, and how many match q in all
	// (admins and devops only).
	FindUsers(ctx context.Context, q Query) ([]*User, PageInfo, error)
	// CreateUser validates and creates u, filling its id and times
	// (admins only); ECONFLICT when the username is taken, EINVALID when
	// a role does not exist.
	CreateUser(ctx context.Context, u *User) error
	// UpdateUser applies upd when ifMatch is "" or the user's current ETag
	// (EPRECONDITION otherwise), and returns the user. Admins may change
	// anything; a user its own name and email. ENOTFOUND when there is no
	// such user.
	UpdateUser(ctx context.Context, id string, upd UserUpdate, ifMatch string) (*User, error)
	// DeactivateUser marks the user inactive (admins only); its tokens stop
	// working. ENOTFOUND when there is no such user, EPRECONDITION on a
	// stale ifMatch.
	DeactivateUser(ctx context.Context, id string, ifMatch string) (*User, error)
}
