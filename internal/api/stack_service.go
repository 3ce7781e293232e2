package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/stackfile"
)

// stackServiceDoc is one service of a cluster: what the current revision
// wants and what the target runs.
type stackServiceDoc struct {
	Name         string   `json:"name"`
	DesiredImage string   `json:"desired_image,omitempty" doc:"The current revision's image; absent for a service only the target runs (the next apply deletes it)."`
	DesiredTag   string   `json:"desired_tag,omitempty"`
	ActualImage  string   `json:"actual_image,omitempty" doc:"The image the target runs; absent while the service does not run."`
	ActualTag    string   `json:"actual_tag,omitempty"`
	DesiredCount int      `json:"desired_count"`
	RunningCount int      `json:"running_count"`
	Running      bool     `json:"running" doc:"Whether the target runs the service."`
	State        string   `json:"state" enum:"in_sync,progressing,drifted,failed" doc:"in_sync: runs as desired; progressing: the current revision is pending or applying, or the count converges; drifted: differs from an applied revision; failed: differs, and the revision to fix it failed."`
	Revision     int      `json:"revision" doc:"The current revision, which the desired fields come from."`
	WaitingFor   []string `json:"waiting_for,omitempty" doc:"While a rollout is under way: the services it depends on that are not in sync yet (it is applied once they are healthy)."`
}

// stackServiceBody changes one service: a new revision made from the
// current one.
type stackServiceBody struct {
	ImageTag     *string `json:"image_tag,omitempty" maxLength:"128" doc:"The new tag; only the tag part of the image changes (letters, digits, '_', '.' and '-')."`
	DesiredCount *int    `json:"desired_count,omitempty" minimum:"0" doc:"The new count; 0 stops the service but keeps it in the stack."`
	Deploy       *bool   `json:"deploy,omitempty" doc:"false keeps the new revision pending, not deployed, until POST deploy (default true)."`
}

func (s *Server) registerStackServices() {
	huma.Register(s.api, op(http.MethodGet, "/clusters/{cluster}/services", "list-stack-services", "stacks",
		"List the cluster's services, desired against running", http.StatusNotFound), s.listStackServices)

	put := op(http.MethodPut, "/clusters/{cluster}/services/{service}", "update-stack-service", "stacks",
		"Set a service's image tag or count as the cluster's next revision (devops, admins, the cluster's deployers)",
		http.StatusNotFound, http.StatusPreconditionFailed)
	put.Description = "A new revision, made from the current one with the service's image tag, desired count or both changed " +
		"(at least one is required; a count of 0 is valid). The answer is 202 with the new revision, which the reconciler applies; " +
		"with `deploy: false` it stays pending until POST deploy (the seed's chat users' flag). The cluster's deployers (users and roles it names) may make this change without stacks:write."
	put.DefaultStatus = http.StatusAccepted
	huma.Register(s.api, put, s.updateStackService)
	s.documentDryRun(put)

	del := op(http.MethodDelete, "/clusters/{cluster}/services/{service}", "delete-stack-service", "stacks",
		"Remove a service as the cluster's next revision (devops, admins)",
		http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed)
	del.Description = "A new revision, the current one without the service; 409 names the services that depend on it. " +
		"The answer is 202 with the new revision; once the reconciler applies it, the service is gone from the target."
	del.DefaultStatus = http.StatusAccepted
	huma.Register(s.api, del, s.deleteStackService)
	s.documentDryRun(del)
	s.registerStackTags()
}

// listStackServices serves GET /api/v1/clusters/{cluster}/services.
func (s *Server) listStackServices(ctx context.Context, in *struct {
	Cluster string `path:"cluster"`
}) (*struct{ Body collection[stackServiceDoc] }, error) {
	cur, actual, err := s.Stacks.StackState(ctx, in.Cluster)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	sts := purser.ServiceStatuses(cur, actual)
	out := &struct{ Body collection[stackServiceDoc] }{}
	out.Body.Items = make([]stackServiceDoc, len(sts))
	for i, st := range sts {
		out.Body.Items[i] = stackServiceDoc{Name: st.Name, DesiredImage: st.DesiredImage, DesiredTag: st.DesiredTag,
			ActualImage: st.ActualImage, ActualTag: st.ActualTag, DesiredCount: st.DesiredCount, RunningCount: st.RunningCount,
			Running: st.Running, State: string(st.State), Revision: cur.Number, WaitingFor: st.WaitingFor}
	}
	base := BasePath + "/clusters/" + url.PathEscape(in.Cluster)
	out.Body.Meta = listMeta{Page: 1, MaxResults: len(sts), Total: counted(len(sts))}
	out.Body.Links = map[string]link{"self": {Href: base + "/services", Title: "services"},
		"config":  {Href: base + "/config", Title: "current stackfile"},
		"cluster": {Href: base, Title: in.Cluster}}
	return out, nil
}

// updateStackService serves PUT /api/v1/clusters/{cluster}/services/{service}.
func (s *Server) updateStackService(ctx context.Context, in *struct {
	Cluster string `path:"cluster"`
	Service string `path:"service"`
	IfMatch string `header:"If-Match" doc:"The current revision's number (the ETag of GET config); 412 if another revision landed since."`
	Message string `query:"message" maxLength:"1000" doc:"Why, kept with the revision; by default what changed."`
	DryRun  bool   `query:"dry_run" doc:"Answer 200 with the revision it would make and its plan; nothing is stored."`
	Body    stackServiceBody
}) (*stackRevisionOutput, error) {
	// The store decides who may (purser.AuthorizeStackChange): stacks:write,
	// or a deployer of the cluster changing tags and counts only.
	b := in.Body
	if b.ImageTag == nil && b.DesiredCount == nil {
		return nil, huma.NewError(http.StatusUnprocessableEntity, "nothing to change: give image_tag, desired_count or both",
			&huma.ErrorDetail{Location: "body", Message: "must set image_tag, desired_count or both (rule: min_properties)"})
	}
	msg := in.Message
	if msg == "" {
		var what []string
		if b.ImageTag != nil {
			what = append(what, "image tag to "+*b.ImageTag)
		}
		if b.DesiredCount != nil {
			what = append(what, "count to "+strconv.Itoa(*b.DesiredCount))
		}
		msg = "set " + in.Service + " " + strings.Join(what, " and ")
	}
	hold := b.Deploy != nil && !*b.Deploy
	out, err := s.editStack(ctx, stackEdit{cluster: in.Cluster, ifMatch: in.IfMatch, msg: msg, hold: hold, dryRun: in.DryRun}, func(sf *purser.Stackfile) (*purser.Stackfile, error) {
		return sf.UpdateService(in.Service, purser.ServiceUpdate{ImageTag: b.ImageTag, DesiredCount: b.DesiredCount})
	})
	if err == nil && b.ImageTag != nil && !in.DryRun {
		s.forgetTags(ctx, in.Cluster, in.Service)
	}
	return out, err
}

// deleteStackService serves DELETE /api/v1/clusters/{cluster}/services/{service}.
func (s *Server) deleteStackService(ctx context.Context, in *struct {
	Cluster string `path:"cluster"`
	Service string `path:"service"`
	IfMatch string `header:"If-Match" doc:"The current revision's number (the ETag of GET config); 412 if another revision landed since."`
	Message string `query:"message" maxLength:"1000" doc:"Why, kept with the revision; by default what changed."`
	DryRun  bool   `query:"dry_run" doc:"Answer 200 with the revision it would make and its plan; nothing is stored."`
}) (*stackRevisionOutput, error) {
	if err := purser.Authorize(ctx, purser.ActionStackWrite, ""); err != nil {
		return nil, s.problem(ctx, err)
	}
	msg := in.Message
	if msg == "" {
		msg = "remove " + in.Service
	}
	return s.editStack(ctx, stackEdit{cluster: in.Cluster, ifMatch: in.IfMatch, msg: msg, dryRun: in.DryRun}, func(sf *purser.Stackfile) (*purser.Stackfile, error) {
		out, err := sf.RemoveService(in.Service)
		var pe *purser.Error
		if errors.As(err, &pe) && pe.Code == purser.EINVALID {
			// Other services depend on it: the stack's state forbids the
			// removal, and each depends_on entry is named.
			var deps []string
			for _, sv := range sf.Services {
				if slices.Contains(sv.DependsOn, in.Service) && sv.Name != in.Service {
					deps = append(deps, sv.Name)
				}
			}
			return nil, &purser.Error{Code: purser.ECONFLICT, Fields: pe.Fields,
				Message: fmt.Sprintf("%s %s on %s: remove it from depends_on first", strings.Join(deps, ", "), map[bool]string{true: "depends", false: "depend"}[len(deps) == 1], in.Service)}
		}
		return out, err
	})
}

// editStack proposes edit(current stackfile) as the cluster's next
// revision. The proposal is made against the revision read, so that a
// change landing in between is never overwritten: with the caller's
// If-Match that is a 412, without one the edit is made again on the newer
// revision.
// stackEdit is a change made to a cluster's current stackfile.
type stackEdit struct {
	cluster, ifMatch, msg string
	hold                  bool // keep the revision pending (deploy: false)
	dryRun                bool // answer the revision and plan it would make; store nothing
}

func (s *Server) editStack(ctx context.Context, e stackEdit, edit func(*purser.Stackfile) (*purser.Stackfile, error)) (*stackRevisionOutput, error) {
	cluster, msg := e.cluster, e.msg
	ifMatch, err := parseIfMatch(e.ifMatch)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		cur, err := s.currentRevision(ctx, cluster)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		if err := purser.CheckIfMatch(cluster, ifMatch, cur); err != nil {
			return nil, s.problem(ctx, err)
		}
		sf, err := edit(cur.Stackfile)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		source, err := stackfile.MarshalYAML(sf)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		if e.dryRun {
			return s.dryRun(ctx, cluster, cur, msg, string(source), sf)
		}
		read := cur.Number
		rev, err := s.Stacks.ProposeRevision(ctx, cluster, purser.StackProposal{Message: msg, Source: string(source), Stackfile: sf, IfMatch: &read, Hold: e.hold})
		if purser.ErrorCode(err) == purser.EPRECONDITION && ifMatch == nil && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		return revisionOut(rev), nil
	}
}
