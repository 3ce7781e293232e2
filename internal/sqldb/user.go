package sqldb

import (
	"context"
	"errors"
	"fmt"
	"strings"

	sq "github.com/Masterminds/squirrel"

	"github.com/purserhq/purser"
)

// UserService implements purser.UserService.
type UserService struct{ db *DB }

// NewUserService returns the user service over db.
func NewUserService(db *DB) *UserService { return &UserService{db: db} }

var _ purser.UserService = (*UserService)(nil)

var userColumns = columns{
	plain: map[string]string{
		"_id": "u.id", "_created": "u.created_at", "_updated": "u.updated_at",
		"username": "u.username", "name": "u.name", "email": "u.email", "is_active": "u.is_active",
	},
	custom: map[string]func(purser.Cond) sq.Sqlizer{
		"roles": func(c purser.Cond) sq.Sqlizer {
			exists := "EXISTS (SELECT 1 FROM user_roles ur WHERE ur.user_id = u.id AND ur.role = ?)"
			switch c.Op {
			case "$ne":
				return sq.Expr("NOT "+exists, c.Value)
			case "$in":
				vals := c.Value.([]any)
				return sq.Expr("EXISTS (SELECT 1 FROM user_roles ur WHERE ur.user_id = u.id AND ur.role IN ("+
					sq.Placeholders(len(vals))+"))", vals...)
			}
			return sq.Expr(exists, c.Value)
		},
	},
	fields: purser.UserFields, unique: []string{"username"},
}

const userSelect = "u.id, u.username, u.name, u.email, u.is_active, u.version, u.created_at, u.updated_at"

func scanUser(row Row) (*userRow, error) {
	var u userRow
	err := row.Scan(&u.ID, &u.Username, &u.Name, &u.Email, &u.IsActive, &u.Version, &u.created, &u.updated)
	return &u, err
}

// userRow is the stored form of purser.User.
type userRow struct {
	purser.User
	created, updated int64
}

func (r *userRow) domain() *purser.User {
	u := r.User
	u.Created, u.Updated = fromMicros(r.created), fromMicros(r.updated)
	if u.Roles == nil {
		u.Roles = []string{}
	}
	return &u
}

// FindUserByID returns a user. Admins and devops may read anyone; others themselves.
func (s *UserService) FindUserByID(ctx context.Context, id string) (*purser.User, error) {
	if err := purser.Authorize(ctx, purser.ActionUserRead, id); err != nil {
		return nil, err
	}
	return s.findUser(ctx, s.db.Read, "u.id = ?", id)
}

func (s *UserService) findUser(ctx context.Context, q Querier, cond string, arg any) (*purser.User, error) {
	r, err := scanUser(q.QueryRow(ctx, "SELECT "+userSelect+" FROM users u WHERE "+cond, arg))
	if err != nil {
		return nil, s.db.translate(err, "user")
	}
	users := []*userRow{r}
	if err := loadRoles(ctx, q, users); err != nil {
		return nil, err
	}
	return r.domain(), nil
}

// loadRoles fills the roles of users with one query.
func loadRoles(ctx context.Context, q Querier, users []*userRow) error {
	if len(users) == 0 {
		return nil
	}
	byID := make(map[string]*userRow, len(users))
	ids := make([]any, len(users))
	for i, u := range users {
		byID[u.ID] = u
		u.Roles = []string{}
		ids[i] = u.ID
	}
	rows, err := q.Query(ctx, "SELECT user_id, role FROM user_roles WHERE user_id IN ("+
		sq.Placeholders(len(ids))+") ORDER BY role", ids...)
	if err != nil {
		return fmt.Errorf("load roles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var uid, role string
		if err := rows.Scan(&uid, &role); err != nil {
			return fmt.Errorf("scan role: %w", err)
		}
		byID[uid].Roles = append(byID[uid].Roles, role)
	}
	return rows.Err()
}

// FindUsers lists users (admins and devops only).
func (s *UserService) FindUsers(ctx context.Context, q purser.Query) ([]*purser.User, purser.PageInfo, error) {
	if err := purser.Authorize(ctx, purser.ActionUserRead, ""); err != nil {
		return nil, purser.PageInfo{}, err
	}
	where, err := userColumns.where(q.Where)
	if err != nil {
		return nil, purser.PageInfo{}, err
	}
	return list(ctx, s.db, listSpec[userRow, purser.User]{
		from: "users u", selectCols: userSelect, where: where,
		orderBy: userColumns.orderBy(q.Sort, "u.id"), query: q,
		scan: scanUser,
		after: func(ctx context.Context, rows []*userRow) error {
			return loadRoles(ctx, s.db.Read, rows)
		},
		domain: (*userRow).domain,
	})
}

// CreateUser creates a user (admins only). Roles must exist.
func (s *UserService) CreateUser(ctx context.Context, u *purser.User) error {
	if err := purser.Authorize(ctx, purser.ActionUserWrite, ""); err != nil {
		return err
	}
	// Report every fault at once: the fields' own rules and unknown roles.
	// Valid fields leave the roles to the transaction's own check.
	if err := u.Validate(); err != nil {
		return mergeInvalid(err, checkRoles(ctx, s.db.Read, u.Roles))
	}
	now := s.db.now()
	u.ID, u.Created, u.Updated, u.Version = purser.NewID(), now, now, 1
	return s.db.WithTx(ctx, func(tx Tx) error {
		if err := checkRoles(ctx, tx, u.Roles); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO users (id, username, name, email, is_active, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, u.ID, u.Username, u.Name, u.Email, u.IsActive, u.Version, micros(now), micros(now))
		if err != nil {
			if s.db.UniqueViolation(err) {
				return &purser.Error{Code: purser.ECONFLICT, Message: "username " + u.Username + " is taken",
					Fields: []purser.FieldError{{Field: "username", Rule: "unique", Message: "is taken"}}}
			}
			return fmt.Errorf("insert user: %w", err)
		}
		if err := setRoles(ctx, tx, u.ID, u.Roles); err != nil {
			return err
		}
		return s.db.audit(ctx, tx, "user.create", "user", u.ID, nil, userAudit(u), "")
	})
}

// checkRoles refuses roles that do not exist or are inactive, naming each.
func checkRoles(ctx context.Context, q Querier, roles []string) error {
	if len(roles) == 0 {
		return nil
	}
	args := make([]any, len(roles))
	for i, r := range roles {
		args[i] = r
	}
	rows, err := q.Query(ctx, "SELECT role FROM roles WHERE is_active = ? AND role IN ("+sq.Placeholders(len(args))+")",
		append([]any{true}, args...)...)
	if err != nil {
		return fmt.Errorf("check roles: %w", err)
	}
	defer rows.Close()
	known := map[string]bool{}
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return err
		}
		known[r] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var fe []purser.FieldError
	for i, r := range roles {
		if !known[r] {
			fe = append(fe, purser.FieldError{Field: fmt.Sprintf("roles[%d]", i), Rule: "exists",
				Message: fmt.Sprintf("names no active role %q", r)})
		}
	}
	if len(fe) > 0 {
		return purser.Invalid(fe...)
	}
	return nil
}

func setRoles(ctx context.Context, tx Tx, userID string, roles []string) error {
	if _, err := tx.Exec(ctx, "DELETE FROM user_roles WHERE user_id = ?", userID); err != nil {
		return fmt.Errorf("clear roles: %w", err)
	}
	for _, r := range roles {
		if _, err := tx.Exec(ctx, "INSERT INTO user_roles (user_id, role) VALUES (?, ?)", userID, r); err != nil {
			return fmt.Errorf("add role: %w", err)
		}
	}
	return nil
}

// UpdateUser changes a user. Admins may change anything; a user may change
// its own name and email.
func (s *UserService) UpdateUser(ctx context.Context, id string, upd purser.UserUpdate, ifMatch string) (*purser.User, error) {
	selfOnly := upd.Roles == nil && upd.IsActive == nil
	owner := ""
	if selfOnly {
		owner = id
	}
	if err := purser.Authorize(ctx, purser.ActionUserWrite, owner); err != nil {
		return nil, err
	}
	var out *purser.User
	defer s.db.forgetAuth()
	err := s.db.WithTx(ctx, func(tx Tx) error {
		u, err := s.findUser(ctx, tx, "u.id = ?", id)
		if err != nil {
			return err
		}
		if ifMatch != "" && strings.Trim(ifMatch, `"`) != u.ETag() {
			return purser.Errorf(purser.EPRECONDITION, "user %s changed since you read it (ETag %s); read it again", id, u.ETag())
		}
		before := userAudit(u)
		if upd.Name != nil {
			u.Name = *upd.Name
		}
		if upd.Email != nil {
			u.Email = *upd.Email
		}
		if upd.IsActive != nil {
			u.IsActive = *upd.IsActive
		}
		if upd.Roles != nil {
			u.Roles = *upd.Roles
			if err := checkRoles(ctx, tx, u.Roles); err != nil {
				return err
			}
		}
		if err := u.Validate(); err != nil {
			return err
		}
		if a := purser.ActorFromContext(ctx); a.IsUser(id) && upd.IsActive != nil && !*upd.IsActive {
			return purser.Errorf(purser.ECONFLICT, "you cannot deactivate yourself")
		}
		u.Updated = s.db.now()
		n, err := tx.Exec(ctx, `UPDATE users SET name = ?, email = ?, is_active = ?, version = version + 1, updated_at = ?
			WHERE id = ? AND version = ?`, u.Name, u.Email, u.IsActive, micros(u.Updated), id, u.Version)
		if err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		if n == 0 {
			return purser.Errorf(purser.EPRECONDITION, "user %s changed while updating; read it again", id)
		}
		u.Version++
		if upd.Roles != nil {
			if err := setRoles(ctx, tx, id, u.Roles); err != nil {
				return err
			}
		}
		out = u
		return s.db.audit(ctx, tx, "user.update", "user", id, before, userAudit(u), "")
	})
	return out, err
}

func userAudit(u *purser.User) map[string]any {
	return map[string]any{"username": u.Username, "name": u.Name, "email": u.Email, "roles": u.Roles, "is_active": u.IsActive}
}

// DeactivateUser marks a user inactive (admins only).
func (s *UserService) DeactivateUser(ctx context.Context, id, ifMatch string) (*purser.User, error) {
	f := false
	return s.UpdateUser(ctx, id, purser.UserUpdate{IsActive: &f}, ifMatch)
}

// mergeInvalid joins validation errors into one listing every field; any
// other error is returned as it is.
func mergeInvalid(errs ...error) error {
	var fields []purser.FieldError
	for _, err := range errs {
		if err == nil {
			continue
		}
		var pe *purser.Error
		if !errors.As(err, &pe) || pe.Code != purser.EINVALID {
			return err
		}
		fields = append(fields, pe.Fields...)
	}
	if len(fields) == 0 {
		return nil
	}
	return purser.Invalid(fields...)
}
