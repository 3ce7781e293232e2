package purser

import (
	"context"
	"time"
)

// Environment is what a driver is asked to create or destroy.
type Environment struct {
	RequestID string
	Owner     string // username
	Template  string
	// ResourceType is what the template makes (KUBERNETES, INSTANCE...).
	ResourceType string
	Params       map[string]any
	// Secrets are the values of the parameters declared secret: drivers
	// redact them from everything they log.
	Secrets   []string
	Footprint Footprint
	ExpiresBy time.Time
	Config    map[string]any
	// Log receives the driver's output, line by line (may be nil).
	Log LogWriter
}

// TemplatePreparer is a driver that checks and completes its templates
// when they are created or changed (e.g. fetching files once).
type TemplatePreparer interface {
	// PrepareTemplate checks t and completes it in place before it is
	// stored (the template service calls it on create and update);
	// EINVALID when the driver cannot use it.
	PrepareTemplate(ctx context.Context, t *Template) error
}

// Refresher is a driver whose environment's credentials follow its expiry:
// after an extension it issues them again (e.g. a new token).
type Refresher interface {
	// Refresh issues env's credentials again for its new expiry and
	// returns the outputs that replace the old ones. A worker calls it
	// after an extension is granted; it is idempotent.
	Refresh(ctx context.Context, env Environment) (outputs map[string]string, err error)
}

// Driver creates and destroys environments. Both calls are idempotent: a
// retried call converges on the same environment.
type Driver interface {
	// Name is the driver's name, as templates name it (Template.Driver).
	Name() string
	// ResourceTypes lists the resource types the driver makes.
	ResourceTypes() []string
	// Provision creates env's environment, or converges on the one a
	// previous attempt began, and returns its outputs (endpoint,
	// credentials). Only the provision worker calls it.
	Provision(ctx context.Context, env Environment) (outputs map[string]string, err error)
	// Destroy removes env's environment and whatever a partial Provision
	// left; destroying what is already gone is not an error. Only the
	// purge worker calls it.
	Destroy(ctx context.Context, env Environment) error
}
