package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser"
)

func newExtensionDoc(e *purser.Extension) extensionDoc {
	d := extensionDoc{Meta: newMeta(e.ID, e.Created, e.Updated, e.ETag(), "extensionRequests", "extensionRequest"),
		ProvisionRequest: e.ProvisionRequest, Reason: e.Reason, ExtendBy: e.ExtendBy, RequestedBy: e.RequestedBy,
		ReviewedBy: e.ReviewedBy, ReviewComment: e.ReviewComment, Status: e.Status}
	d.Links["provision_request"] = link{Href: BasePath + "/provisionRequests/" + e.ProvisionRequest, Title: "provisionRequest"}
	return d
}

// flexHours accepts the seed's extend_by="48" (a string) as well as 48.
type flexHours int

func (h *flexHours) UnmarshalJSON(b []byte) error {
	var v exprValue
	if err := v.UnmarshalJSON(b); err != nil {
		return err
	}
	n, err := parseWholeNumber(string(v))
	if err != nil {
		return err
	}
	*h = flexHours(n)
	return nil
}

// Schema documents both forms.
func (flexHours) Schema(r huma.Registry) *huma.Schema {
	return &huma.Schema{OneOf: []*huma.Schema{{Type: "integer"}, {Type: "string", Pattern: "^[0-9]+$"}}, Description: "Hours, 1 to the template's maximum (at most 720)."}
}

// extensionBody asks to extend an environment.
type extensionBody struct {
	ProvisionRequest string    `json:"provision_request"`
	Reason           string    `json:"reason" minLength:"1" maxLength:"1000"`
	ExtendBy         flexHours `json:"extend_by"`
	RequestedBy      string    `json:"requested_by,omitempty"`
}

type extensionOutput struct {
	ETag string `header:"ETag"`
	Body extensionDoc
}

func (s *Server) registerExtensions() {
	huma.Register(s.api, op(http.MethodGet, "/extensionRequests", "list-extensions", "extensionRequests", "List extension requests", http.StatusBadRequest), s.listExtensions)

	create := op(http.MethodPost, "/extensionRequests", "create-extension", "extensionRequests", "Ask to extend an environment (once)", http.StatusConflict)
	create.DefaultStatus = http.StatusCreated
	huma.Register(s.api, create, s.createExtension)

	huma.Register(s.api, cacheable(op(http.MethodGet, "/extensionRequests/{id}", "get-extension", "extensionRequests", "Get an extension request", http.StatusNotFound)), s.getExtension)

	for _, act := range []string{"approve", "reject", "revoke"} {
		o := op(http.MethodPost, "/extensionRequests/{id}/"+act, act+"-extension", "extensionRequests",
			map[string]string{"approve": "Approve (devops, admins): moves expires_by and re-arms the reminders", "reject": "Reject (devops, admins)", "revoke": "Withdraw your extension request"}[act],
			http.StatusNotFound, http.StatusConflict)
		huma.Register(s.api, o, s.actOnExtension(act))
	}

	seed := op(http.MethodPost, "/approveExtensionRequest", "review-extension-seed", "extensionRequests", "The seed's extension review call",
		http.StatusNotFound, http.StatusConflict)
	seed.Description = "Body {_id, reviewed_by, status: APPROVED|REJECTED}, where _id is the extension request's id or, as the seed documents it, the provision request's id (its extension request waiting for review is meant); answers {_id: the extension request's id, status, provision_request}."
	huma.Register(s.api, seed, s.reviewExtensionSeed)
}

// actOnExtension returns the handler of POST /api/v1/extensionRequests/{id}/<act>:
// approve, reject or revoke.
func (s *Server) actOnExtension(act string) func(ctx context.Context, in *struct {
	ID   string `path:"id"`
	Body *reviewBody
}) (*extensionOutput, error) {
	return func(ctx context.Context, in *struct {
		ID   string `path:"id"`
		Body *reviewBody
	}) (*extensionOutput, error) {
		rv, err := s.review(ctx, in.Body)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		var e *purser.Extension
		if act == "revoke" {
			e, err = s.Extensions.RevokeExtension(ctx, in.ID)
		} else {
			e, err = s.Extensions.ReviewExtension(ctx, in.ID, act == "approve", rv)
		}
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		return s.extensionOut(ctx, e)
	}
}

// listExtensions serves GET /api/v1/extensionRequests: List extension requests.
func (s *Server) listExtensions(ctx context.Context, in *ListParams) (*struct{ Body collection[extensionDoc] }, error) {
	find := func(ctx context.Context, q purser.Query) ([]*purser.Extension, purser.PageInfo, error) {
		if err := s.resolveWhere(ctx, &q, []string{"requested_by"}, nil); err != nil {
			return nil, purser.PageInfo{}, err
		}
		return s.Extensions.FindExtensions(ctx, q)
	}
	out, err := listOf(ctx, s, in, "extensionRequests", purser.ExtensionFields, find, newExtensionDoc)
	if err == nil {
		err = s.nameExtensions(ctx, out.Body.Items)
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return out, nil
}

// nameExtensions names the requester and reviewer of each extension.
func (s *Server) nameExtensions(ctx context.Context, docs []extensionDoc) error {
	ids := make([]string, 0, 2*len(docs))
	for _, d := range docs {
		ids = append(ids, d.RequestedBy, d.ReviewedBy)
	}
	names, err := s.usernames(ctx, ids)
	if err != nil {
		return err
	}
	for i := range docs {
		docs[i].RequestedByName, docs[i].ReviewedByName = names[docs[i].RequestedBy], names[docs[i].ReviewedBy]
	}
	return nil
}

// extensionOut is an extension's answer, its people named.
func (s *Server) extensionOut(ctx context.Context, e *purser.Extension) (*extensionOutput, error) {
	d := []extensionDoc{newExtensionDoc(e)}
	if err := s.nameExtensions(ctx, d); err != nil {
		return nil, s.problem(ctx, err)
	}
	return &extensionOutput{ETag: etagOf(d[0].ETag), Body: d[0]}, nil
}

// createExtension serves POST /api/v1/extensionRequests: Ask to extend an environment (once).
func (s *Server) createExtension(ctx context.Context, in *struct{ Body extensionBody }) (*extensionOutput, error) {
	by, err := s.userID(ctx, "requested_by", in.Body.RequestedBy, inField)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	e := &purser.Extension{ProvisionRequest: in.Body.ProvisionRequest, Reason: in.Body.Reason, ExtendBy: int(in.Body.ExtendBy), RequestedBy: by}
	if err := s.Extensions.CreateExtension(ctx, e); err != nil {
		return nil, s.problem(ctx, err)
	}
	return s.extensionOut(ctx, e)
}

// getExtension serves GET /api/v1/extensionRequests/{id}: Get an extension request.
func (s *Server) getExtension(ctx context.Context, in *struct {
	ID string `path:"id"`
}) (*extensionOutput, error) {
	e, err := s.Extensions.FindExtensionByID(ctx, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return s.extensionOut(ctx, e)
}

// reviewExtensionSeed serves POST /api/v1/approveExtensionRequest: The seed's extension review call.
func (s *Server) reviewExtensionSeed(ctx context.Context, in *struct{ Body seedReview }) (*struct{ Body seedReviewAnswer }, error) {
	by, err := s.userID(ctx, "reviewed_by", in.Body.ReviewedBy, inField)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	id, err := s.extensionToReview(ctx, in.Body.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	e, err := s.Extensions.ReviewExtension(ctx, id, in.Body.Status == "APPROVED", purser.Review{ReviewedBy: by, Comment: in.Body.Comment})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &struct{ Body seedReviewAnswer }{seedReviewAnswer{ID: e.ID, Status: e.Status, ProvisionRequest: e.ProvisionRequest}}, nil
}

// extensionToReview resolves the seed's _id: an extension request's id, or
// (as the seed's README documents it) the id of the provision request
// whose extension request waits for review.
func (s *Server) extensionToReview(ctx context.Context, id string) (string, error) {
	_, err := s.Extensions.FindExtensionByID(ctx, id)
	if purser.ErrorCode(err) != purser.ENOTFOUND {
		return id, err
	}
	if _, err := s.Requests.FindRequestByID(ctx, id); err != nil {
		if purser.ErrorCode(err) == purser.ENOTFOUND {
			return "", purser.Errorf(purser.ENOTFOUND, "no extension request or provision request has the id %s", id)
		}
		return "", err
	}
	where, _ := json.Marshal(map[string]string{"provision_request": id, "status": purser.ExtensionRequested})
	q, err := purser.ParseQuery(string(where), "-_created", 1, 1, purser.ExtensionFields)
	if err != nil {
		return "", err
	}
	waiting, _, err := s.Extensions.FindExtensions(ctx, q)
	if err != nil {
		return "", err
	}
	if len(waiting) == 0 {
		return "", purser.Errorf(purser.ENOTFOUND, "provision request %s has no extension request waiting for review", id)
	}
	return waiting[0].ID, nil
}
