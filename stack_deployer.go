package purser

import (
	"fmt"
	"strings"
)

// A cluster may name deployers: users (user:NAME) or roles (role:NAME)
// who may change its services' image tags and desired counts, and nothing
// else, without stacks:write. This is what the desired-state seed's chat
// users did ("deploy to staging api:1.4.2"). Anyone with stacks:write may
// change anything.

// Deployer entry prefixes.
const (
	DeployerUser = "user:"
	DeployerRole = "role:"
)

// MaxDeployers is how many deployers a cluster may name.
const MaxDeployers = 100

// ParseDeployer splits a deployer entry into its kind (DeployerUser or
// DeployerRole) and name; ok is false when it is neither well formed.
func ParseDeployer(entry string) (kind, name string, ok bool) {
	for _, k := range []string{DeployerUser, DeployerRole} {
		if n, found := strings.CutPrefix(entry, k); found {
			re := usernameRE
			if k == DeployerRole {
				re = roleRE
			}
			return k, n, re.MatchString(n)
		}
	}
	return "", "", false
}

// validateDeployers checks each entry's form, and that none repeats.
// Whether the users and roles exist is the store's fact to check
// (CheckDeployersExist), at the time they are named.
func validateDeployers(ds []string) []FieldError {
	var fe []FieldError
	if len(ds) > MaxDeployers {
		return []FieldError{{"deployers", "max_items", fmt.Sprintf("must name at most %d deployers", MaxDeployers)}}
	}
	seen := map[string]bool{}
	for i, d := range ds {
		field := fmt.Sprintf("deployers[%d]", i)
		if _, _, ok := ParseDeployer(d); !ok {
			fe = append(fe, FieldError{field, "pattern", "must be user:USERNAME or role:ROLE"})
		} else if seen[d] {
			fe = append(fe, FieldError{field, "unique", d + " is named twice"})
		}
		seen[d] = true
	}
	return fe
}

// CheckDeployersExist refuses deployers naming a user or role that does
// not exist (known holds the entries that do), so that a typo does not
// silently grant nobody; a user or role removed later simply stops
// matching.
func CheckDeployersExist(ds []string, known map[string]bool) error {
	var fe []FieldError
	for i, d := range ds {
		if !known[d] {
			kind, name, _ := ParseDeployer(d)
			fe = append(fe, FieldError{fmt.Sprintf("deployers[%d]", i), "exists", "there is no " + strings.TrimSuffix(kind, ":") + " " + name})
		}
	}
	return invalidOrNil(fe)
}

// IsDeployer reports whether the user is one of the cluster's deployers,
// by username or by one of its roles. An inactive user is no one's.
func (c *Cluster) IsDeployer(u *User) bool {
	if c == nil || u == nil || !u.IsActive {
		return false
	}
	for _, d := range c.Deployers {
		kind, name, _ := ParseDeployer(d)
		if (kind == DeployerUser && name == u.Username) || (kind == DeployerRole && u.HasRole(name)) {
			return true
		}
	}
	return false
}

// AuthorizeStackChange decides whether the actor may make next the
// stack of cluster c in place of cur (both normalised; cur nil while the
// cluster has no stack). stacks:write allows any change; a deployer of c
// may change services' image tags (keeping each image's repository) and
// desired counts only. EUNAUTHORIZED for no actor; EFORBIDDEN otherwise,
// naming what a deployer may change and each path the change touches
// beyond it.
func AuthorizeStackChange(a *Actor, c *Cluster, cur, next *Stackfile) error {
	err := a.Authorize(ActionStackWrite, "")
	if err == nil || ErrorCode(err) != EFORBIDDEN || a.User == nil || !c.IsDeployer(a.User) {
		return err
	}
	const may = "image tags (same repository) and desired counts"
	if cur == nil {
		return Errorf(EFORBIDDEN, "cluster %s has no stack yet: its deployers may change only services' %s of an existing stack", c.Name, may)
	}
	var beyond []FieldError
	add := func(path, why string) {
		beyond = append(beyond, FieldError{path, "deployer", why})
	}
	d := DiffStacks(cur, next)
	for _, s := range d.Sections {
		add(s.Field, "changed; deployers change services' "+may+" only")
	}
	for _, sp := range d.Services {
		switch sp.Action {
		case PlanCreate:
			add("services."+sp.Service, "added; deployers do not add services")
		case PlanDelete:
			add("services."+sp.Service, "removed; deployers do not remove services")
		default:
			for _, ch := range sp.Changes {
				switch {
				case ch.Field == "desired_count":
				case ch.Field == "image" && sameRepository(ch.Old, ch.New):
				case ch.Field == "image":
					add("services."+sp.Service+".image", "names another repository; deployers change only the tag")
				default:
					add("services."+sp.Service+"."+ch.Field, "changed; deployers change services' "+may+" only")
				}
			}
		}
	}
	if len(beyond) == 0 {
		return nil
	}
	paths := make([]string, len(beyond))
	for i, f := range beyond {
		paths[i] = f.Field
	}
	return &Error{Code: EFORBIDDEN, Fields: beyond, Message: fmt.Sprintf(
		"as a deployer of %s you may change only services' %s; this change also touches %s (that needs stacks:write)", c.Name, may, examples(paths))}
}

func sameRepository(a, b string) bool {
	ra, _ := SplitImage(a)
	rb, _ := SplitImage(b)
	return ra == rb
}
