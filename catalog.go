package purser

import "context"

// TemplateStore is the store's side of TemplateService: it checks,
// records and reads templates, and makes no network call; a Catalog
// has each template's driver prepare it between its calls.
type TemplateStore interface {
	TemplateService
	// CheckNewTemplate authorizes and validates a template about to be
	// created, filling its defaults.
	CheckNewTemplate(ctx context.Context, t *Template) error
	// TemplateToUpdate returns what template id becomes with upd,
	// authorized and validated.
	TemplateToUpdate(ctx context.Context, id string, upd TemplateUpdate, ifMatch string) (*Template, error)
	// SaveTemplate writes t as its template's next revision, unless the
	// template changed since t was read.
	SaveTemplate(ctx context.Context, t *Template) error
}

// Catalog is the TemplateService a server gives the API: its store, with
// each template checked, then completed by its driver (Prepare may fetch
// files: a network call, made outside any transaction), then recorded.
type Catalog struct {
	TemplateStore
	// Prepare lets a template's driver check and complete it; nil when no
	// driver needs to.
	Prepare func(ctx context.Context, t *Template) error
	// Cache, when set, keeps current templates by id; every write through
	// the Catalog invalidates the template's entry.
	Cache TemplateCache
}

// TemplateCache keeps current templates by id, possibly shared by every
// replica.
type TemplateCache interface {
	// Get returns the cached template, if any.
	Get(ctx context.Context, id string) (*Template, bool)
	// Set caches t under id.
	Set(ctx context.Context, id string, t *Template)
	// Invalidate forgets id's entry.
	Invalidate(ctx context.Context, id string)
}

// FindTemplateByID returns the template, from the cache when it holds it.
// Reading the catalog is authorized before the cache is looked at.
func (c *Catalog) FindTemplateByID(ctx context.Context, id string) (*Template, error) {
	if c.Cache == nil {
		return c.TemplateStore.FindTemplateByID(ctx, id)
	}
	if err := Authorize(ctx, ActionTemplateRead, ""); err != nil {
		return nil, err
	}
	if t, ok := c.Cache.Get(ctx, id); ok {
		return t, nil
	}
	t, err := c.TemplateStore.FindTemplateByID(ctx, id)
	if err == nil {
		c.Cache.Set(ctx, id, t)
	}
	return t, err
}

// DeleteTemplate removes (or deactivates) the template and forgets it.
func (c *Catalog) DeleteTemplate(ctx context.Context, id string) error {
	err := c.TemplateStore.DeleteTemplate(ctx, id)
	c.forget(ctx, id)
	return err
}

func (c *Catalog) forget(ctx context.Context, id string) {
	if c.Cache != nil {
		c.Cache.Invalidate(ctx, id)
	}
}

// CreateTemplate checks t, has its driver prepare it and records it.
func (c *Catalog) CreateTemplate(ctx context.Context, t *Template) error {
	if err := c.CheckNewTemplate(ctx, t); err != nil {
		return err
	}
	if err := c.prepare(ctx, t); err != nil {
		return err
	}
	defer c.forget(ctx, t.ID)
	return c.TemplateStore.CreateTemplate(ctx, t)
}

// UpdateTemplate makes the template's next revision, prepared by its driver.
func (c *Catalog) UpdateTemplate(ctx context.Context, id string, upd TemplateUpdate, ifMatch string) (*Template, error) {
	t, err := c.TemplateToUpdate(ctx, id, upd, ifMatch)
	if err != nil {
		return nil, err
	}
	if err := c.prepare(ctx, t); err != nil {
		return nil, err
	}
	defer c.forget(ctx, id)
	return t, c.SaveTemplate(ctx, t)
}

func (c *Catalog) prepare(ctx context.Context, t *Template) error {
	if c.Prepare == nil {
		return nil
	}
	return c.Prepare(ctx, t)
}
