package purser

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func TestTemplateWriteActions(t *testing.T) {
	sim, exec := &Template{Driver: "sim"}, &Template{Driver: DriverExec}
	tests := []struct {
		name          string
		before, after *Template
		want          string
	}{
		{"CreateSim", nil, sim, "[templates:write]"},
		{"CreateExec", nil, exec, "[templates:write templates:exec]"},
		{"ChangeSim", sim, sim, "[templates:write]"},
		{"ChangeExec", exec, exec, "[templates:write templates:exec]"},
		{"ToExec", sim, exec, "[templates:write templates:exec]"},
		{"FromExec", exec, sim, "[templates:write templates:exec]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fmt.Sprint(TemplateWriteActions(tt.before, tt.after)); got != tt.want {
				t.Fatalf("%s, want %s", got, tt.want)
			}
		})
	}
}

func TestAuthorizeTemplatesExec(t *testing.T) {
	actor := func(roles ...string) context.Context {
		return NewContextWithActor(context.Background(), &Actor{User: &User{Meta: Meta{ID: "u"}, Roles: roles, IsActive: true}})
	}
	tests := []struct {
		name  string
		ctx   context.Context
		roles []string // nil: Rules
		code  string
	}{
		{"AdminByDefault", actor(RoleAdmin), nil, ""},
		{"ErrDevOpsByDefault", actor(RoleDevOps), nil, EFORBIDDEN},
		{"ErrDevByDefault", actor(RoleDev), nil, EFORBIDDEN},
		{"SystemAlways", SystemContext(context.Background()), nil, ""},
		{"DevOpsWhenConfigured", actor(RoleDevOps), []string{RoleAdmin, RoleDevOps}, ""},
		{"ErrAdminWhenNotConfigured", actor(RoleAdmin), []string{"platform"}, EFORBIDDEN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			roles := tt.roles
			if roles == nil {
				roles = Rules[ActionTemplateExec]
			}
			err := AuthorizeRoles(tt.ctx, ActionTemplateExec, roles, "")
			if got := ErrorCode(err); got != tt.code {
				t.Fatalf("code %q (%v), want %q", got, err, tt.code)
			}
			if err != nil && !strings.Contains(ErrorMessage(err), "templates:exec") {
				t.Fatalf("refusal does not name templates:exec: %q", ErrorMessage(err))
			}
		})
	}
}
