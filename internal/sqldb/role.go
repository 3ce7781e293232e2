package sqldb

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/purserhq/purser"
)

// RoleService implements purser.RoleService.
type RoleService struct{ db *DB }

// NewRoleService returns the role service over db.
func NewRoleService(db *DB) *RoleService { return &RoleService{db: db} }

var _ purser.RoleService = (*RoleService)(nil)

var roleColumns = columns{plain: map[string]string{
	"_id": "role", "role": "role", "description": "description", "is_active": "is_active",
	"built_in": "built_in", "_created": "created_at", "_updated": "updated_at",
},
	fields: purser.RoleFields,
}

const roleSelect = "role, description, is_active, built_in, created_at, updated_at"

type roleRow struct {
	purser.Role
	created, updated int64
}

func scanRole(row Row) (*roleRow, error) {
	var r roleRow
	err := row.Scan(&r.Role.Role, &r.Description, &r.IsActive, &r.BuiltIn, &r.created, &r.updated)
	return &r, err
}

func (r *roleRow) domain() *purser.Role {
	out := r.Role
	out.Created, out.Updated = fromMicros(r.created), fromMicros(r.updated)
	return &out
}

// FindRoleByName returns a role.
func (s *RoleService) FindRoleByName(ctx context.Context, name string) (*purser.Role, error) {
	if err := purser.Authorize(ctx, purser.ActionRoleRead, ""); err != nil {
		return nil, err
	}
	r, err := scanRole(s.db.Read.QueryRow(ctx, "SELECT "+roleSelect+" FROM roles WHERE role = ?", name))
	if err != nil {
		return nil, s.db.translate(err, "role "+name)
	}
	return r.domain(), nil
}

// FindRoles lists roles.
func (s *RoleService) FindRoles(ctx context.Context, q purser.Query) ([]*purser.Role, purser.PageInfo, error) {
	if err := purser.Authorize(ctx, purser.ActionRoleRead, ""); err != nil {
		return nil, purser.PageInfo{}, err
	}
	where, err := roleColumns.where(q.Where)
	if err != nil {
		return nil, purser.PageInfo{}, err
	}
	if len(q.Sort) == 0 {
		q.Sort = []purser.Sort{{Field: "role"}}
	}
	return list(ctx, s.db, listSpec[roleRow, purser.Role]{
		from: "roles", selectCols: roleSelect, where: where,
		orderBy: roleColumns.orderBy(q.Sort, "role"), query: q,
		scan: scanRole, domain: (*roleRow).domain,
	})
}

// CreateRole creates a role (admins only). Creating a built-in role again
// returns it unchanged, so that the seed's set-up calls work as written.
func (s *RoleService) CreateRole(ctx context.Context, r *purser.Role) (bool, error) {
	if err := purser.Authorize(ctx, purser.ActionRoleWrite, ""); err != nil {
		return false, err
	}
	if err := r.Validate(); err != nil {
		return false, err
	}
	created := false
	err := s.db.WithTx(ctx, func(tx Tx) error {
		existing, err := scanRole(tx.QueryRow(ctx, "SELECT "+roleSelect+" FROM roles WHERE role = ?", r.Role))
		if err == nil {
			if !existing.BuiltIn {
				return &purser.Error{Code: purser.ECONFLICT, Message: "role " + r.Role + " already exists",
					Fields: []purser.FieldError{{Field: "role", Rule: "unique", Message: "already exists"}}}
			}
			*r = *existing.domain()
			return nil
		}
		if err != ErrNoRows {
			return fmt.Errorf("find role: %w", err)
		}
		now := s.db.now()
		r.IsActive, r.BuiltIn, r.Created, r.Updated = true, false, now, now
		_, err = tx.Exec(ctx, "INSERT INTO roles (role, description, is_active, built_in, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
			r.Role, r.Description, true, false, micros(now), micros(now))
		if err != nil {
			return s.db.translate(err, "role "+r.Role)
		}
		created = true
		return s.db.audit(ctx, tx, "role.create", "role", r.Role, nil, map[string]any{"description": r.Description}, "")
	})
	return created, err
}

// UpdateRole changes a role's description or activity (admins only).
func (s *RoleService) UpdateRole(ctx context.Context, name string, upd purser.RoleUpdate, ifMatch string) (*purser.Role, error) {
	if err := purser.Authorize(ctx, purser.ActionRoleWrite, ""); err != nil {
		return nil, err
	}
	var out *purser.Role
	err := s.db.WithTx(ctx, func(tx Tx) error {
		// Lock the row first (PostgreSQL), so that of two concurrent
		// changes the second reads the first's result and its If-Match.
		if _, err := tx.Exec(ctx, "UPDATE roles SET updated_at = updated_at WHERE role = ?", name); err != nil {
			return fmt.Errorf("lock role: %w", err)
		}
		r, err := s.find(ctx, tx, name)
		if err != nil {
			return err
		}
		if ifMatch != "" && ifMatch != "*" && strings.Trim(ifMatch, `"`) != r.ETag() {
			return purser.Errorf(purser.EPRECONDITION, "role %s changed since you read it (ETag %s); read it again", name, r.ETag())
		}
		after, c, err := r.Update(upd, s.db.now())
		if err != nil {
			return err
		}
		out = after
		return s.db.commit(ctx, tx, c)
	})
	return out, err
}

// DeleteRole removes a role nothing uses (admins only).
func (s *RoleService) DeleteRole(ctx context.Context, name string) error {
	if err := purser.Authorize(ctx, purser.ActionRoleWrite, ""); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx Tx) error {
		r, err := s.find(ctx, tx, name)
		if err != nil {
			return err
		}
		var use purser.RoleUse
		if use.Users, err = column(ctx, tx, "SELECT u.username FROM user_roles ur JOIN users u ON u.id = ur.user_id WHERE ur.role = ? ORDER BY u.username", name); err != nil {
			return err
		}
		if use.Quotas, err = column(ctx, tx, "SELECT id FROM quotas WHERE role = ? ORDER BY id", name); err != nil {
			return err
		}
		if slices.Contains(s.db.ExecTemplateRoles, name) {
			use.Permissions = append(use.Permissions, string(purser.ActionTemplateExec))
		}
		c, err := r.Delete(use)
		if err != nil {
			return err
		}
		return s.db.commit(ctx, tx, c)
	})
}

func (s *RoleService) find(ctx context.Context, q Querier, name string) (*purser.Role, error) {
	r, err := scanRole(q.QueryRow(ctx, "SELECT "+roleSelect+" FROM roles WHERE role = ?", name))
	if err != nil {
		return nil, s.db.translate(err, "role "+name)
	}
	return r.domain(), nil
}

// column returns the first column of every row the query answers.
func column(ctx context.Context, q Querier, query string, args ...any) ([]string, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// saveRole writes a role's description and activity.
func (db *DB) saveRole(ctx context.Context, tx Tx, r *purser.Role) error {
	if _, err := tx.Exec(ctx, "UPDATE roles SET description = ?, is_active = ?, updated_at = ? WHERE role = ?",
		r.Description, r.IsActive, micros(r.Updated), r.Role); err != nil {
		return fmt.Errorf("update role: %w", err)
	}
	return nil
}

// deleteRole removes a role the decision found unused. A user given it
// or a quota naming it meanwhile makes the foreign keys refuse.
func (db *DB) deleteRole(ctx context.Context, tx Tx, name string) error {
	if _, err := tx.Exec(ctx, "DELETE FROM roles WHERE role = ?", name); err != nil {
		if db.ForeignKeyViolation != nil && db.ForeignKeyViolation(err) {
			return &purser.Error{Code: purser.ECONFLICT, Message: "role " + name + " was given to a user or named by a quota meanwhile; try again", Err: err}
		}
		return fmt.Errorf("delete role: %w", err)
	}
	return nil
}
