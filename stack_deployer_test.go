package purser

import (
	"strings"
	"testing"
)

func TestAuthorizeStackChange(t *testing.T) {
	t.Parallel()
	c := &Cluster{Name: "staging", Kind: ClusterSim, Deployers: []string{"user:alice", "role:release"}}
	alice := &User{Meta: Meta{ID: "alice"}, Username: "alice", Roles: []string{RoleDev}, IsActive: true}
	bob := &User{Meta: Meta{ID: "bob"}, Username: "bob", Roles: []string{"release"}, IsActive: true}
	carol := &User{Meta: Meta{ID: "carol"}, Username: "carol", Roles: []string{RoleDev}, IsActive: true}
	gone := &User{Meta: Meta{ID: "gone"}, Username: "alice", Roles: []string{RoleDev}, IsActive: false}
	edit := func(f func(s *Stackfile)) *Stackfile {
		s := validStack()
		f(s)
		return s
	}
	tag := edit(func(s *Stackfile) { s.Services[0].Image = "r/web:2" })
	tagAndCount := edit(func(s *Stackfile) { s.Services[0].Image = "r/web:2"; s.Services[2].DesiredCount = intp(5) })
	repo := edit(func(s *Stackfile) { s.Services[0].Image = "evil/web:2" })
	env := edit(func(s *Stackfile) { s.Services[1].Environment = []EnvVar{{"DEBUG", "1"}} })
	added := edit(func(s *Stackfile) { s.Services = append(s.Services, StackService{Name: "miner", Image: "x/miner:1"}) })
	removed := edit(func(s *Stackfile) { s.Services = s.Services[:2] })
	defaults := edit(func(s *Stackfile) { s.Defaults.Memory = 4096 })
	tests := []struct {
		name      string
		actor     *Actor
		cur, next *Stackfile
		code      string // "" allowed
		says      string
	}{
		{"OKDevOpsAnything", &Actor{User: ops}, validStack(), added, "", ""},
		{"OKAdminFirstStack", &Actor{User: admin}, nil, validStack(), "", ""},
		{"OKSystem", &Actor{System: true}, validStack(), env, "", ""},
		{"OKDeployerByNameTag", &Actor{User: alice}, validStack(), tag, "", ""},
		{"OKDeployerByNameTagAndCount", &Actor{User: alice}, validStack(), tagAndCount, "", ""},
		{"OKDeployerByRole", &Actor{User: bob}, validStack(), tagAndCount, "", ""},
		{"OKDeployerNoChange", &Actor{User: bob}, validStack(), validStack(), "", ""},
		{"ErrDeployerRepository", &Actor{User: alice}, validStack(), repo, EFORBIDDEN, "services.web.image"},
		{"ErrDeployerEnvironment", &Actor{User: alice}, validStack(), env, EFORBIDDEN, "services.users.environment.DEBUG"},
		{"ErrDeployerAddsService", &Actor{User: bob}, validStack(), added, EFORBIDDEN, "services.miner"},
		{"ErrDeployerRemovesService", &Actor{User: bob}, validStack(), removed, EFORBIDDEN, "services.worker"},
		{"ErrDeployerDefaults", &Actor{User: alice}, validStack(), defaults, EFORBIDDEN, "image tags (same repository) and desired counts"},
		{"ErrDeployerFirstStack", &Actor{User: alice}, nil, validStack(), EFORBIDDEN, "no stack yet"},
		{"ErrNotDeployer", &Actor{User: carol}, validStack(), tag, EFORBIDDEN, "stacks:write"},
		{"ErrDevNoDeployers", &Actor{User: dev}, validStack(), tag, EFORBIDDEN, "stacks:write"},
		{"ErrInactiveDeployer", &Actor{User: gone}, validStack(), tag, EFORBIDDEN, "stacks:write"},
		{"ErrAgent", &Actor{Host: "h1"}, validStack(), tag, EFORBIDDEN, "stacks:write"},
		{"ErrNoOne", nil, validStack(), tag, EUNAUTHORIZED, "authentication"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cur *Stackfile
			if tt.cur != nil {
				cur = tt.cur.Normalize()
			}
			err := AuthorizeStackChange(tt.actor, c, cur, tt.next.Normalize())
			if ErrorCode(err) != tt.code && !(tt.code == "" && err == nil) {
				t.Fatalf("err = %v, want code %q", err, tt.code)
			}
			if tt.code != "" && !strings.Contains(err.Error()+fieldsText(err), tt.says) {
				t.Fatalf("err = %v (%s), want it to say %q", err, fieldsText(err), tt.says)
			}
		})
	}
}

func fieldsText(err error) string {
	var out []string
	if pe, ok := err.(*Error); ok {
		for _, f := range pe.Fields {
			out = append(out, f.Field+": "+f.Message)
		}
	}
	return strings.Join(out, "; ")
}

func TestDeployersValidated(t *testing.T) {
	t.Parallel()
	c := &Cluster{Name: "staging", Kind: ClusterSim, Deployers: []string{"user:alice", "role:release", "bob", "user:", "role:release", "group:x"}}
	err := c.Validate()
	got := fieldsText(err)
	for _, want := range []string{"deployers[2]: must be user:USERNAME or role:ROLE", "deployers[3]", "deployers[4]: role:release is named twice", "deployers[5]"} {
		if !strings.Contains(got, want) {
			t.Errorf("Validate: %s lacks %q", got, want)
		}
	}
	if strings.Contains(got, "deployers[0]") || strings.Contains(got, "deployers[1]") {
		t.Errorf("well-formed entries refused: %s", got)
	}
	err = CheckDeployersExist([]string{"user:alice", "role:nope"}, map[string]bool{"user:alice": true})
	if ErrorCode(err) != EINVALID || fieldsText(err) != "deployers[1]: there is no role nope" {
		t.Errorf("CheckDeployersExist: %v (%s)", err, fieldsText(err))
	}
}

func TestEveryUserReadsStacks(t *testing.T) {
	t.Parallel()
	release := &User{Meta: Meta{ID: "r"}, Username: "r", Roles: []string{"release"}, IsActive: true}
	if err := (&Actor{User: release}).Authorize(ActionStackRead, ""); err != nil {
		t.Errorf("a user holding only a custom role reads stacks: %v", err)
	}
	inactive := &User{Meta: Meta{ID: "i"}, Username: "i", Roles: []string{RoleDev}}
	if err := (&Actor{User: inactive}).Authorize(ActionStackRead, ""); ErrorCode(err) != EFORBIDDEN {
		t.Errorf("an inactive user reads stacks: %v", err)
	}
	if err := (&Actor{User: release}).Authorize(ActionStackWrite, ""); ErrorCode(err) != EFORBIDDEN {
		t.Errorf("every user writes stacks: %v", err)
	}
}
