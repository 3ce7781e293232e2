package purser

import (
	"strings"
	"testing"
	"time"
)

func TestRoleUpdate(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	no, desc, long := false, "quality", strings.Repeat("x", 201)
	tests := []struct {
		name     string
		role     Role
		upd      RoleUpdate
		code     string
		field    string
		active   bool
		describe string
	}{
		{"OK", Role{Role: "qa", IsActive: true}, RoleUpdate{Description: &desc, IsActive: &no}, "", "", false, "quality"},
		{"BuiltInDescription", Role{Role: RoleDev, IsActive: true, BuiltIn: true}, RoleUpdate{Description: &desc}, "", "", true, "quality"},
		{"BuiltInStaysActive", Role{Role: RoleDev, IsActive: true, BuiltIn: true}, RoleUpdate{IsActive: &no}, ECONFLICT, "is_active", true, ""},
		{"DescriptionTooLong", Role{Role: "qa", IsActive: true}, RoleUpdate{Description: &long}, EINVALID, "description", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.role
			after, c, err := tt.role.Update(tt.upd, now)
			if got := ErrorCode(err); tt.code != "" || err != nil {
				if got != tt.code || !hasField(err, tt.field) {
					t.Fatalf("error %v (code %q), want code %q naming %q", err, got, tt.code, tt.field)
				}
				return
			}
			if after.IsActive != tt.active || after.Description != tt.describe || !after.Updated.Equal(now) || tt.role != before {
				t.Fatalf("after %+v; role %+v changed in place?", after, tt.role)
			}
			if len(c.Rows) != 1 || c.Rows[0] != Row(after) || len(c.Events) != 1 || c.Events[0].Action != "role.update" {
				t.Fatalf("change %+v", c)
			}
			if b, a := c.Events[0].Before.(map[string]any), c.Events[0].After.(map[string]any); b["description"] != tt.role.Description || a["is_active"] != tt.active {
				t.Fatalf("event before %v after %v", b, a)
			}
		})
	}
}

func TestRoleDelete(t *testing.T) {
	users := []string{"ann", "bob", "cyd", "dan"}
	tests := []struct {
		name string
		role Role
		use  RoleUse
		says []string // empty: deleted
	}{
		{"OK", Role{Role: "qa"}, RoleUse{}, nil},
		{"BuiltIn", Role{Role: RoleDev, BuiltIn: true}, RoleUse{}, []string{"built in"}},
		{"HeldByUsers", Role{Role: "qa"}, RoleUse{Users: users}, []string{"4 user(s)", "ann, bob, cyd and 1 more"}},
		{"NamedByQuota", Role{Role: "qa"}, RoleUse{Quotas: []string{"q1"}}, []string{"1 quota(s)", "q1"}},
		{"GrantedByConfig", Role{Role: "qa"}, RoleUse{Permissions: []string{"templates:exec"}}, []string{"configuration", "templates:exec"}},
		{"EverythingSaid", Role{Role: "qa"}, RoleUse{Users: users[:1], Quotas: []string{"q1"}, Permissions: []string{"templates:exec"}}, []string{"ann", "q1", "templates:exec"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.role.Delete(tt.use)
			if len(tt.says) == 0 {
				if err != nil || len(c.Rows) != 1 || c.Rows[0] != Row(DeletedRole{"qa"}) || len(c.Events) != 1 || c.Events[0].Action != "role.delete" {
					t.Fatalf("change %+v, error %v", c, err)
				}
				return
			}
			if ErrorCode(err) != ECONFLICT || len(c.Rows) != 0 {
				t.Fatalf("error %v, change %+v: want a conflict and nothing done", err, c)
			}
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%q does not say %q", err, s)
				}
			}
		})
	}
}

// hasField reports whether err names field (or field is "").
func hasField(err error, field string) bool {
	if field == "" {
		return true
	}
	e, ok := err.(*Error)
	if !ok {
		return false
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}
