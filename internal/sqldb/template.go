package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/purserhq/purser"
)

// TemplateService implements purser.TemplateService.
type TemplateService struct{ db *DB }

// NewTemplateService returns the catalog service over db.
func NewTemplateService(db *DB) *TemplateService { return &TemplateService{db: db} }

var _ purser.TemplateStore = (*TemplateService)(nil)

// templateSpec is how a template's structured fields are stored (JSON).
type templateSpec struct {
	Params       []purser.Param        `json:"params"`
	Footprint    purser.FootprintExprs `json:"footprint"`
	TTLDefault   time.Duration         `json:"ttl_default"`
	TTLMax       time.Duration         `json:"ttl_max"`
	ExtensionMax time.Duration         `json:"extension_max"`
	Approval     purser.ApprovalPolicy `json:"approval"`
	Config       map[string]any        `json:"config"`
	URL          string                `json:"url"`
	Type         string                `json:"type"`
}

var templateColumns = columns{plain: map[string]string{
	"_id": "id", "_created": "created_at", "_updated": "updated_at", "name": "name",
	"driver": "driver", "resource_type": "resource_type", "is_active": "is_active",
},
	fields: purser.TemplateFields,
}

const templateSelect = "id, name, description, driver, resource_type, spec, is_active, version, created_at, updated_at, revision"

// revisionSelect reads a revision in templateSelect's order: a revision
// never changes, so it was created and updated at once, and its version is
// its number.
const revisionSelect = "template_id, name, description, driver, resource_type, spec, is_active, revision, created_at, created_at, revision"

type templateRow struct {
	purser.Template
	spec             string
	created, updated int64
}

func scanTemplate(r Row) (*templateRow, error) {
	var t templateRow
	err := r.Scan(&t.ID, &t.Name, &t.Description, &t.Driver, &t.ResourceType, &t.spec, &t.IsActive, &t.Version, &t.created, &t.updated, &t.Revision)
	return &t, err
}

func (r *templateRow) domain() *purser.Template {
	t := r.Template
	t.Created, t.Updated = fromMicros(r.created), fromMicros(r.updated)
	var sp templateSpec
	_ = json.Unmarshal([]byte(r.spec), &sp)
	t.Params, t.Footprint, t.TTLDefault, t.TTLMax, t.ExtensionMax = sp.Params, sp.Footprint, sp.TTLDefault, sp.TTLMax, sp.ExtensionMax
	t.Approval, t.Config, t.URL, t.Type = sp.Approval, sp.Config, sp.URL, sp.Type
	if t.Params == nil {
		t.Params = []purser.Param{}
	}
	return &t
}

func specOf(t *purser.Template) string {
	b, _ := json.Marshal(templateSpec{t.Params, t.Footprint, t.TTLDefault, t.TTLMax, t.ExtensionMax, t.Approval, t.Config, t.URL, t.Type})
	return string(b)
}

// FindTemplateByID returns a template; anyone signed in may read the catalog.
func (s *TemplateService) FindTemplateByID(ctx context.Context, id string) (*purser.Template, error) {
	if err := purser.Authorize(ctx, purser.ActionTemplateRead, ""); err != nil {
		return nil, err
	}
	return s.find(ctx, s.db.Read, id)
}

func (s *TemplateService) find(ctx context.Context, q Querier, id string) (*purser.Template, error) {
	r, err := scanTemplate(q.QueryRow(ctx, "SELECT "+templateSelect+" FROM templates WHERE id = ?", id))
	if err != nil {
		return nil, s.db.translate(err, "template "+id)
	}
	return r.domain(), nil
}

// findRevision returns revision n of template id.
func (s *TemplateService) findRevision(ctx context.Context, q Querier, id string, n int) (*purser.Template, error) {
	r, err := scanTemplate(q.QueryRow(ctx, "SELECT "+revisionSelect+" FROM template_revisions WHERE template_id = ? AND revision = ?", id, n))
	if err != nil {
		return nil, s.db.translate(err, fmt.Sprintf("revision %d of template %s", n, id))
	}
	return r.domain(), nil
}

// FindTemplateRevision returns revision n of a template; anyone signed in
// may read the catalog's history.
func (s *TemplateService) FindTemplateRevision(ctx context.Context, id string, n int) (*purser.Template, error) {
	if err := purser.Authorize(ctx, purser.ActionTemplateRead, ""); err != nil {
		return nil, err
	}
	return s.findRevision(ctx, s.db.Read, id, n)
}

// FindTemplateRevisions returns every revision of a template, oldest first.
func (s *TemplateService) FindTemplateRevisions(ctx context.Context, id string) ([]*purser.Template, error) {
	if err := purser.Authorize(ctx, purser.ActionTemplateRead, ""); err != nil {
		return nil, err
	}
	if _, err := s.find(ctx, s.db.Read, id); err != nil {
		return nil, err
	}
	rows, err := s.db.Read.Query(ctx, "SELECT "+revisionSelect+" FROM template_revisions WHERE template_id = ? ORDER BY revision", id)
	if err != nil {
		return nil, fmt.Errorf("template revisions: %w", err)
	}
	defer rows.Close()
	var out []*purser.Template
	for rows.Next() {
		r, err := scanTemplate(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r.domain())
	}
	return out, rows.Err()
}

// insertRevision records t as it now stands as its revision t.Revision.
func (s *TemplateService) insertRevision(ctx context.Context, tx Tx, t *purser.Template) error {
	_, err := tx.Exec(ctx, `INSERT INTO template_revisions (template_id, revision, name, description, driver, resource_type, spec, is_active, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, t.ID, t.Revision, t.Name, t.Description, t.Driver, t.ResourceType, specOf(t), t.IsActive, actorID(ctx), micros(t.Updated))
	if err != nil {
		return fmt.Errorf("insert revision %d of template %s: %w", t.Revision, t.ID, err)
	}
	return nil
}

// FindTemplates lists the catalog.
func (s *TemplateService) FindTemplates(ctx context.Context, q purser.Query) ([]*purser.Template, purser.PageInfo, error) {
	if err := purser.Authorize(ctx, purser.ActionTemplateRead, ""); err != nil {
		return nil, purser.PageInfo{}, err
	}
	where, err := templateColumns.where(q.Where)
	if err != nil {
		return nil, purser.PageInfo{}, err
	}
	if len(q.Sort) == 0 {
		q.Sort = []purser.Sort{{Field: "_id"}}
	}
	return list(ctx, s.db, listSpec[templateRow, purser.Template]{
		from: "templates", selectCols: templateSelect, where: where,
		orderBy: templateColumns.orderBy(q.Sort, "id"), query: q, scan: scanTemplate, domain: (*templateRow).domain,
	})
}

// applyDefaults fills what a template may leave out (purser.Template.ApplyDefaults).
func (s *TemplateService) applyDefaults(t *purser.Template) { t.ApplyDefaults(s.db.Drivers[t.Driver]) }

func (s *TemplateService) validate(t *purser.Template) error {
	drivers := make([]string, 0, len(s.db.Drivers))
	for d := range s.db.Drivers {
		drivers = append(drivers, d)
	}
	sort.Strings(drivers)
	if err := t.Validate(s.db.Evaluator, drivers); err != nil {
		return err
	}
	types := s.db.Drivers[t.Driver]
	for _, rt := range types {
		if rt == t.ResourceType {
			return nil
		}
	}
	return purser.Invalid(purser.FieldError{Field: "resource_type", Rule: "enum",
		Message: fmt.Sprintf("driver %s makes %s", t.Driver, strings.Join(types, ", "))})
}

// authorizeWrite checks every action that changing before (nil on
// creation) into after needs, templates:exec with the configured roles.
func (s *TemplateService) authorizeWrite(ctx context.Context, before, after *purser.Template) error {
	for _, a := range purser.TemplateWriteActions(before, after) {
		roles := purser.Rules[a]
		if a == purser.ActionTemplateExec && s.db.ExecTemplateRoles != nil {
			roles = s.db.ExecTemplateRoles
		}
		if err := purser.AuthorizeRoles(ctx, a, roles, ""); err != nil {
			return err
		}
	}
	return nil
}

// CheckNewTemplate authorizes and validates a template about to be
// created (filling its defaults), before its driver prepares it.
func (s *TemplateService) CheckNewTemplate(ctx context.Context, t *purser.Template) error {
	if err := s.authorizeWrite(ctx, nil, t); err != nil {
		return err
	}
	s.applyDefaults(t)
	return s.validate(t)
}

// CreateTemplate adds a template to the catalog (devops and admins; exec
// templates need templates:exec), as its caller prepared it.
func (s *TemplateService) CreateTemplate(ctx context.Context, t *purser.Template) error {
	if err := s.CheckNewTemplate(ctx, t); err != nil {
		return err
	}
	now := s.db.now()
	t.Created, t.Updated, t.Version, t.Revision = now, now, 1, 1
	return s.db.WithTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO templates ("+templateSelect+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			t.ID, t.Name, t.Description, t.Driver, t.ResourceType, specOf(t), t.IsActive, t.Version, micros(now), micros(now), t.Revision)
		if err != nil {
			if s.db.UniqueViolation(err) {
				return &purser.Error{Code: purser.ECONFLICT, Message: "template " + t.ID + " already exists",
					Fields: []purser.FieldError{{Field: "_id", Rule: "unique", Message: "is taken"}}}
			}
			return fmt.Errorf("insert template: %w", err)
		}
		if err := s.insertRevision(ctx, tx, t); err != nil {
			return err
		}
		return s.db.audit(ctx, tx, "template.create", "template", t.ID, nil, t.AuditDoc(), "")
	})
}

// UpdateTemplate changes a template (devops and admins), making its next
// revision. Requests already made keep the revision they pinned.
func (s *TemplateService) UpdateTemplate(ctx context.Context, id string, upd purser.TemplateUpdate, ifMatch string) (*purser.Template, error) {
	t, err := s.TemplateToUpdate(ctx, id, upd, ifMatch)
	if err != nil {
		return nil, err
	}
	return t, s.SaveTemplate(ctx, t)
}

// TemplateToUpdate returns what template id becomes with upd, authorized
// and validated, for its driver to prepare before SaveTemplate.
func (s *TemplateService) TemplateToUpdate(ctx context.Context, id string, upd purser.TemplateUpdate, ifMatch string) (*purser.Template, error) {
	if err := purser.Authorize(ctx, purser.ActionTemplateWrite, ""); err != nil {
		return nil, err
	}
	t, err := s.find(ctx, s.db.Read, id)
	if err != nil {
		return nil, err
	}
	if err := checkETag(ifMatch, t.Meta, "template "+id); err != nil {
		return nil, err
	}
	orig := *t
	t.Apply(upd)
	if err := s.authorizeWrite(ctx, &orig, t); err != nil {
		return nil, err
	}
	s.applyDefaults(t)
	if err := s.validate(t); err != nil {
		return nil, err
	}
	return t, nil
}

// SaveTemplate writes t as its template's next revision, unless the
// template changed since t was read (its Version).
func (s *TemplateService) SaveTemplate(ctx context.Context, t *purser.Template) error {
	return s.db.WithTx(ctx, func(tx Tx) error {
		cur, err := s.find(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		if err := s.authorizeWrite(ctx, cur, t); err != nil {
			return err
		}
		t.Updated = s.db.now()
		n, err := tx.Exec(ctx, `UPDATE templates SET name = ?, description = ?, resource_type = ?, spec = ?, is_active = ?,
			version = version + 1, revision = revision + 1, updated_at = ? WHERE id = ? AND version = ?`,
			t.Name, t.Description, t.ResourceType, specOf(t), t.IsActive, micros(t.Updated), t.ID, t.Version)
		if err != nil {
			return fmt.Errorf("update template: %w", err)
		}
		if n == 0 {
			return purser.Errorf(purser.EPRECONDITION, "template %s changed while updating; read it again", t.ID)
		}
		t.Version++
		t.Revision++
		if err := s.insertRevision(ctx, tx, t); err != nil {
			return err
		}
		return s.db.audit(ctx, tx, "template.update", "template", t.ID, cur.AuditDoc(), t.AuditDoc(), "")
	})
}

// checkETag compares an If-Match value with a document's ETag.
func checkETag(ifMatch string, m purser.Meta, what string) error {
	if ifMatch == "" || ifMatch == "*" || strings.Trim(ifMatch, `"`) == m.ETag() {
		return nil
	}
	return purser.Errorf(purser.EPRECONDITION, "%s changed since you read it (ETag %s); read it again", what, m.ETag())
}

// DeleteTemplate removes a template no request was ever made from, with
// its revisions (devops and admins; exec templates need templates:exec).
func (s *TemplateService) DeleteTemplate(ctx context.Context, id string) error {
	if err := purser.Authorize(ctx, purser.ActionTemplateWrite, ""); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx Tx) error {
		t, err := s.find(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.authorizeWrite(ctx, t, nil); err != nil {
			return err
		}
		requests, err := column(ctx, tx, "SELECT id FROM requests WHERE resource_template = ? ORDER BY created_at, id", id)
		if err != nil {
			return err
		}
		c, err := t.Delete(requests)
		if err != nil {
			return err
		}
		return s.db.commit(ctx, tx, c)
	})
}

// deleteTemplate removes a template and its revisions.
func (db *DB) deleteTemplate(ctx context.Context, tx Tx, id string) error {
	for _, q := range []string{"DELETE FROM template_revisions WHERE template_id = ?", "DELETE FROM templates WHERE id = ?"} {
		if _, err := tx.Exec(ctx, q, id); err != nil {
			if db.ForeignKeyViolation != nil && db.ForeignKeyViolation(err) {
				return &purser.Error{Code: purser.ECONFLICT, Message: "a provision request was made from template " + id + " meanwhile; deactivate it instead: PATCH is_active=false", Err: err}
			}
			return fmt.Errorf("delete template %s: %w", id, err)
		}
	}
	return nil
}
