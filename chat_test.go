package purser

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseChatCommand(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want ChatCommand
		err  string // a part of the error's message; "" when it parses
	}{
		{"OKOne", "deploy to demo web:1.2.3", ChatCommand{Cluster: "demo", Tags: []ServiceTag{{"web", "1.2.3"}}}, ""},
		{"OKMention", "<@U0BOT> deploy to demo web:v1", ChatCommand{Cluster: "demo", Tags: []ServiceTag{{"web", "v1"}}}, ""},
		{"OKSeveral", "Deploy To prod-eu web:1.2,users:2.0.0-rc_1", ChatCommand{Cluster: "prod-eu", Tags: []ServiceTag{{"web", "1.2"}, {"users", "2.0.0-rc_1"}}}, ""},
		{"OKSpaceAfterComma", "deploy to demo web:1, users:2", ChatCommand{Cluster: "demo", Tags: []ServiceTag{{"web", "1"}, {"users", "2"}}}, ""},
		{"OKAll", "deploy to demo all:2024.06.01", ChatCommand{Cluster: "demo", AllTag: "2024.06.01"}, ""},
		{"OKListTags", "deploy to demo web", ChatCommand{Cluster: "demo", ListTags: "web"}, ""},
		{"ErrEmpty", "  ", ChatCommand{}, "say what to deploy"},
		{"ErrVerb", "destroy to demo web:1", ChatCommand{}, `"destroy" is not a command`},
		{"ErrNoTo", "deploy demo web:1", ChatCommand{}, `must be followed by "to <cluster>"`},
		{"ErrNoCluster", "deploy to", ChatCommand{}, "name the cluster"},
		{"ErrClusterName", "deploy to de$mo web:1", ChatCommand{}, `"de$mo" is not a cluster name`},
		{"ErrNoServices", "deploy to demo", ChatCommand{}, "name the services to deploy to demo"},
		{"ErrNoTag", "deploy to demo web:1,users", ChatCommand{}, `"users" has no tag`},
		{"ErrEmptyTag", "deploy to demo web:", ChatCommand{}, `"web:" has no tag`},
		{"ErrBadTag", "deploy to demo web:v1:2", ChatCommand{}, `"v1:2" is not an image tag`},
		{"ErrBadService", "deploy to demo w*b:1", ChatCommand{}, `"w*b" is not a service name`},
		{"ErrEmptyEntry", "deploy to demo web:1,,users:2", ChatCommand{}, "empty entry"},
		{"ErrTwice", "deploy to demo web:1,web:2", ChatCommand{}, "web is named twice"},
		{"ErrAllAndOthers", "deploy to demo all:1,web:2", ChatCommand{}, "name no other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseChatCommand(tt.in)
			if tt.err != "" {
				if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), tt.err) || !strings.Contains(ErrorMessage(err), "Try: deploy to") {
					t.Fatalf("err %v, want EINVALID containing %q and the usage", err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestChatCommandApply(t *testing.T) {
	tests := []struct {
		name   string
		cmd    ChatCommand
		images []string // web, users, worker
		code   string
	}{
		{"OKOne", ChatCommand{Cluster: "c", Tags: []ServiceTag{{"web", "1.2.3"}}}, []string{"r/web:1.2.3", "r/users:1", "r/worker:1"}, ""},
		{"OKTwo", ChatCommand{Cluster: "c", Tags: []ServiceTag{{"web", "2"}, {"worker", "3"}}}, []string{"r/web:2", "r/users:1", "r/worker:3"}, ""},
		{"OKAll", ChatCommand{Cluster: "c", AllTag: "v9"}, []string{"r/web:v9", "r/users:v9", "r/worker:v9"}, ""},
		{"ErrUnknownService", ChatCommand{Cluster: "c", Tags: []ServiceTag{{"web", "2"}, {"db", "3"}}}, nil, ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tt.cmd.Apply(validStack())
			if ErrorCode(err) != tt.code {
				t.Fatalf("err %v, want %q", err, tt.code)
			}
			if err != nil {
				if !strings.Contains(ErrorMessage(err), "has no service db (it has users, web, worker)") {
					t.Fatalf("message %q", ErrorMessage(err))
				}
				return
			}
			for i, sv := range out.Services {
				if sv.Image != tt.images[i] {
					t.Errorf("%s: image %s, want %s", sv.Name, sv.Image, tt.images[i])
				}
			}
		})
	}
	if m := (ChatCommand{Tags: []ServiceTag{{"web", "1"}, {"users", "2"}}}).Message("ana"); m != "slack: @ana deploy web:1,users:2" {
		t.Errorf("message %q", m)
	}
}

func TestChatThreadText(t *testing.T) {
	plan := &Plan{Services: []ServicePlan{{Service: "users", Action: PlanUnchanged}, {Service: "web", Action: PlanUpdate}, {Service: "api", Action: PlanCreate}}}
	r := &StackRevision{Cluster: "demo", Number: 4}
	th := ChatThread{Cluster: "demo", Revision: 4, ChatUser: "ana"}
	tests := []struct {
		name string
		th   ChatThread
		p    RolloutProgress
		want string
	}{
		{"Pending", th, RolloutProgress{Status: RevisionPending}, ":hourglass: Queued: revision 4 of demo for @ana."},
		{"Applying", th, RolloutProgress{Status: RevisionApplying, Plan: plan, Done: 1},
			":arrows_counterclockwise: Deploying revision 4 of demo for @ana.\n:heavy_check_mark: update `web`\n:arrows_counterclockwise: create `api`"},
		{"Applied", th, RolloutProgress{Status: RevisionApplied, Plan: plan},
			":white_check_mark: Applied revision 4 of demo for @ana.\n:heavy_check_mark: update `web`\n:heavy_check_mark: create `api`"},
		{"Failed", th, RolloutProgress{Status: RevisionFailed, Reason: "web: image not found", Rollback: &StackRevision{Number: 5, RollbackOf: 3}},
			":x: Failed: revision 4 of demo for @ana.\nReason: web: image not found\nRolling back with revision 5 (restores revision 3); revision 4 is blocked."},
		{"RolledBack", th.RollbackThread(&StackRevision{Number: 5}, "web: image not found"), RolloutProgress{Status: RevisionApplied},
			":leftwards_arrow_with_hook: Rolled back: revision 4 of demo failed (web: image not found); rolling back with revision 5, which restores revision 3, now applied."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rev := r
			if tt.th.FailedRevision != 0 {
				rev = &StackRevision{Cluster: "demo", Number: 5, RollbackOf: 3}
			}
			if got := tt.th.Text(rev, tt.p); got != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestReviewRequestID(t *testing.T) {
	tests := []struct {
		name string
		n    Notification
		id   string
	}{
		{"OK", Notification{Event: EventSubmitted, Link: "/api/v1/provisionRequests/r1"}, "r1"},
		{"NotSubmitted", Notification{Event: EventApproved, Link: "/api/v1/provisionRequests/r1"}, ""},
		{"NotARequest", Notification{Event: EventSubmitted, Link: "/api/v1/clusters/c"}, ""},
		{"Deeper", Notification{Event: EventSubmitted, Link: "/api/v1/provisionRequests/r1/extensions/e"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if id, ok := ReviewRequestID(tt.n); id != tt.id || ok != (tt.id != "") {
				t.Fatalf("got %q %v", id, ok)
			}
		})
	}
	for _, tt := range []struct{ action, comment string }{{ChatActionApprove, "approved in Slack by @ana"}, {ChatActionReject, "rejected in Slack by @ana"}} {
		if _, rv, err := ChatReview(tt.action, "ana"); err != nil || rv.Comment != tt.comment {
			t.Errorf("%s: %+v %v", tt.action, rv, err)
		}
	}
	if _, _, err := ChatReview("x", "ana"); ErrorCode(err) != EINVALID {
		t.Errorf("unknown action: %v", err)
	}
}
