package ui

import (
	"net/http"

	"github.com/purserhq/purser"
)

// actionButton is a person's action on a request the page offers.
type actionButton struct {
	Action, Label, Confirm string
}

// actions are the actions the owner may take on a request in its status
// (the service decides again on POST).
func actions(r *purser.Request, u *purser.User) []actionButton {
	if u == nil || u.ID != r.RequestedBy {
		return nil
	}
	var out []actionButton
	if _, ok := purser.Transitions[purser.ActRevoke][r.Status]; ok {
		out = append(out, actionButton{Action: string(purser.ActRevoke), Label: "Withdraw the request", Confirm: "Withdraw this request?"})
	}
	if _, ok := purser.Transitions[purser.ActRetry][r.Status]; ok {
		out = append(out, actionButton{Action: string(purser.ActRetry), Label: "Retry"})
	}
	if _, ok := purser.Transitions[purser.ActPurge][r.Status]; ok {
		out = append(out, actionButton{Action: string(purser.ActPurge), Label: "Purge the environment", Confirm: "Destroy this environment and everything in it?"})
	}
	return out
}

// act serves POST /requests/{id}/act: the owner's revoke, retry or purge.
func (s *Server) act(w http.ResponseWriter, r *http.Request) {
	a := purser.RequestAction(r.PostFormValue("action"))
	if a != purser.ActRevoke && a != purser.ActRetry && a != purser.ActPurge {
		s.fail(w, r, purser.Invalid(purser.FieldError{Field: "action", Rule: "enum", Message: "must be revoke, retry or purge"}))
		return
	}
	if a == purser.ActPurge && r.PostFormValue("confirm") != r.PathValue("id") {
		// Purging is confirmed on its own page (request_extra.go).
		http.Redirect(w, r, string(requestURL(r.PathValue("id"), "purge")), http.StatusSeeOther)
		return
	}
	if _, err := s.Requests.ActOnRequest(r.Context(), r.PathValue("id"), a, purser.Review{}); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/requests/"+r.PathValue("id"), http.StatusSeeOther)
}

// requestKubeconfig serves GET /requests/{id}/kubeconfig: the
// environment's kubeconfig as a file, for the owner (and admins).
func (s *Server) requestKubeconfig(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	req, err := s.Requests.FindRequestByID(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.Requests.RequestOutputs(ctx, req.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := s.Templates.FindTemplateRevision(ctx, req.ResourceTemplate, req.TemplateRevision)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	kc, err := req.Kubeconfig(t, out)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Content-Disposition", `attachment; filename="`+req.ID+`.kubeconfig"`)
	_, _ = w.Write([]byte(kc))
}
