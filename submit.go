package purser

import (
	"fmt"
	"time"
)

// PermanentRefused is why a PERMANENT request is refused. The seed had the
// label and no behaviour (its expires_by stayed required); Purser's
// guardrail is that every environment expires and is purged, so that
// nothing outlives the need for it unseen. What a team needs for longer it
// asks for with the template's maximum TTL and an extension.
const PermanentRefused = "PERMANENT is not offered: every environment expires; " +
	"ask for up to the template's maximum TTL, then an extension, and leave request_type out (TEMPORARY)"

// NewRequest checks what owner submits against template t (active,
// parameters, TTL, resource and request type) and returns the request it
// makes, REQUESTED, with its footprint estimated. The values of secret
// parameters are split out into secrets (the request keeps SecretMask in
// their place), for the store to seal.
func NewRequest(in RequestInput, t *Template, owner *User, ev Evaluator, now time.Time) (r *Request, secrets map[string]any, err error) {
	if !t.IsActive {
		return nil, nil, Invalid(FieldError{Field: "resource_template", Rule: "active", Message: "template " + t.ID + " is inactive"})
	}
	params, err := t.ValidateParams(in.ResourceParameters)
	if err != nil {
		return nil, nil, err
	}
	fp, err := t.EvalFootprint(ev, params)
	if err != nil {
		return nil, nil, err
	}
	var fe []FieldError
	var expires time.Time
	switch {
	case in.ExpiresBy != nil:
		expires = in.ExpiresBy.UTC().Truncate(time.Microsecond)
		if !expires.After(now) {
			fe = append(fe, FieldError{Field: "expires_by", Rule: "future", Message: "must be in the future"})
		}
	case in.TTL != 0:
		if in.TTL < 0 || in.TTL > t.TTLMax {
			fe = append(fe, FieldError{Field: "ttl_hours", Rule: "max_ttl",
				Message: fmt.Sprintf("must be positive and at most %s, template %s's maximum TTL", Hours(t.TTLMax), t.ID)})
		}
		expires = now.Add(in.TTL)
	default:
		expires = now.Add(t.TTLDefault)
	}
	if in.TTL == 0 && expires.Sub(now) > t.TTLMax+time.Minute {
		fe = append(fe, FieldError{Field: "expires_by", Rule: "max_ttl",
			Message: fmt.Sprintf("must be at most %s from now, template %s's maximum TTL", Hours(t.TTLMax), t.ID)})
	}
	rt := in.ResourceType
	if rt == "" {
		rt = t.ResourceType
	} else if rt != t.ResourceType {
		fe = append(fe, FieldError{Field: "resource_type", Rule: "template", Message: "template " + t.ID + " makes " + t.ResourceType})
	}
	typ := in.RequestType
	switch typ {
	case "", RequestTemporary:
		typ = RequestTemporary
	case RequestPermanent:
		fe = append(fe, FieldError{Field: "request_type", Rule: "temporary_only", Message: PermanentRefused})
	default:
		fe = append(fe, FieldError{Field: "request_type", Rule: "enum", Message: "must be TEMPORARY (the default)"})
	}
	if len(in.Description) > 1000 {
		fe = append(fe, FieldError{Field: "description", Rule: "max_length", Message: "must be at most 1000 characters"})
	}
	if len(fe) > 0 {
		return nil, nil, Invalid(fe...)
	}
	public, secrets := t.SplitSecrets(params)
	return &Request{
		Meta:        Meta{ID: NewID(), Created: now, Updated: now},
		Description: in.Description, ExpiresBy: expires, RequestedBy: owner.ID,
		ResourceType: rt, ResourceTemplate: t.ID, TemplateRevision: t.Revision, ResourceParameters: public, RequestType: typ,
		Status: StatusRequested, Footprint: fp, EstimatedCost: fp.CostPerHour * expires.Sub(now).Hours(),
	}, secrets, nil
}

// SubmittedRequest is a new request to insert, with the values of its
// secret parameters (sealed by the store, shown to the driver only).
type SubmittedRequest struct {
	Request *Request
	Secrets map[string]any
}

// SubmitFacts are what a submission decides on, loaded under the
// requester's lock.
type SubmitFacts struct {
	Pending    int      // the requester's requests waiting for review
	MaxPending int      // requests.max_pending (DefaultMaxPending if not positive)
	Fit        QuotaFit // the request beside what the requester holds
	ActingFor  string   // the user an admin submitted for, if any
}

// Submit decides whether a new request may wait for review: its requester
// has fewer than MaxPending waiting, and it fits the quota. It is then
// inserted, audited and queued for analysis (which may approve it at once).
func (r *Request) Submit(secrets map[string]any, f SubmitFacts) (Change, error) {
	if err := CheckPending(f.Pending, f.MaxPending); err != nil {
		return Change{}, err
	}
	if err := f.Fit.Err(); err != nil {
		return Change{}, err
	}
	return Change{
		Rows: []Row{SubmittedRequest{Request: r, Secrets: secrets}},
		Events: []AuditEvent{{Action: "request.create", TargetType: "provisionRequest", TargetID: r.ID,
			After: r.Snapshot(), ActingFor: f.ActingFor}},
		Jobs: []JobArgs{AnalyseArgs{RequestID: r.ID}},
	}, nil
}
