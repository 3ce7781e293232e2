package purser

import "context"

// Ref is a user or a template as people name it: its _id and its name (a
// user's username, a template's name).
type Ref struct {
	ID       string
	Name     string
	IsActive bool
}

// NameService turns what people type (a username, a template's name, or an
// _id) into ids, and ids into names, so that the API can take either and
// show both. Names are not secrets: any signed-in caller may resolve them;
// what the resolved id gives access to is still decided by the service the
// id is then handed to. With no one signed in, both methods answer
// EUNAUTHORIZED.
type NameService interface {
	// ResolveUsers returns, for each ref that names a user, that user: by
	// _id first, else by username. Refs that name no one are absent.
	ResolveUsers(ctx context.Context, refs []string) (map[string]Ref, error)
	// ResolveTemplates returns, for each ref that names templates, the
	// templates it names: the one with that _id, else every template with
	// that name (names need not be unique), active ones first. Refs that
	// name none are absent.
	ResolveTemplates(ctx context.Context, refs []string) (map[string][]Ref, error)
}
