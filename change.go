package purser

// Change is what a decision implies, for the store to commit in one
// transaction: the documents to write, the audit events, the jobs to
// enqueue and the messages to send. A decision returns it and does nothing
// else; the store loads the facts, calls the decision and commits the
// Change (with the rows' version checks), so that a transition and every
// effect it implies land together or not at all.
type Change struct {
	// Rows are the documents to write, in order; each is written once, in
	// its final state, with its version checked.
	Rows []Row
	// Events are the audit records, in order.
	Events []AuditEvent
	// Jobs are the jobs to enqueue (at most one waiting per request and kind).
	Jobs []JobArgs
	// Messages are addressed to the user each names.
	Messages []Message
	// ToReviewers are sent to every active reviewer (devops and admin
	// users) except the user Except names.
	ToReviewers []ReviewerMessage
	// ToAdmins are sent to every active admin (pools' self-healing:
	// replacements, spares exhausted, remediation halted).
	ToAdmins []Message
}

// Row is a document a Change writes: *Request, SubmittedRequest,
// RequestOutputs, Approval, *Extension, *Role, *Cluster, *StackRevision,
// or the removal of one (DeletedRole, DeletedTemplate). The store has a
// table for each.
type Row interface {
	// isRow marks the types a Change may write; no other package can
	// add one.
	isRow()
}

func (*Request) isRow()         {}
func (SubmittedRequest) isRow() {}
func (RequestOutputs) isRow()   {}
func (Approval) isRow()         {}
func (*Extension) isRow()       {}
func (*Role) isRow()            {}
func (DeletedRole) isRow()      {}
func (DeletedTemplate) isRow()  {}
func (*Cluster) isRow()         {}

// ReviewerMessage is a message to every reviewer but one (the requester,
// who must not be asked to review its own request).
type ReviewerMessage struct {
	Message
	Except string
}

// AuditEvent is an audit record a change implies. The store adds who made
// the change (the actor of the call) and when.
type AuditEvent struct {
	Action     string // e.g. "request.approve"
	TargetType string // e.g. "provisionRequest"
	TargetID   string
	Before     any // documents (maps or structs with JSON tags); nil is fine
	After      any
	ActingFor  string // the user an admin acted for, if any
}

// Approval records that a reviewer approved a request, for templates that
// need several approvers.
type Approval struct {
	RequestID string
	Reviewer  string
}

// add appends o's effects to c.
func (c *Change) add(o Change) {
	c.Rows = append(c.Rows, o.Rows...)
	c.Events = append(c.Events, o.Events...)
	c.Jobs = append(c.Jobs, o.Jobs...)
	c.Messages = append(c.Messages, o.Messages...)
	c.ToReviewers = append(c.ToReviewers, o.ToReviewers...)
	c.ToAdmins = append(c.ToAdmins, o.ToAdmins...)
}
