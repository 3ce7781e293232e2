package sqldb

import (
	"context"
	"fmt"

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
