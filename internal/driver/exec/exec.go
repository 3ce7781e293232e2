// Package exec is the driver for templates that run tools: eksctl,
// Terraform, Ansible or any script. A template's config names its files
// and its provision and destroy commands:
//
//	config:
//	  files:
//	    - path: cluster.yaml
//	      content: "metadata: {name: {{ cluster_name }}}"   # inline,
//	      # or source: eks/basic.yaml  (under the templates directory)
//	      # or url: https://...  sha256: ...  (fetched once, at creation)
//	      # kind: yaml  (json, yaml, hcl, shell, text; default from the extension)
//	  provision: [eksctl, create, cluster, -f, cluster.yaml]
//	  destroy:   [eksctl, delete, cluster, -f, cluster.yaml]
//	  shell: false      # true: each command is one string run by sh -c
//	  timeout: 30m
//
// Parameters reach a command three ways, each safe from injection:
//
//   - In a file, {{ name }} becomes a literal of the file's kind: in json,
//     yaml and hcl a string is quoted and escaped (numbers and booleans are
//     written bare), in shell it is single-quoted. So a template writes
//     `name: {{ x }}`, never `name: "{{ x }}"`. Kind is declared, or
//     implied by the extension (.json; .yaml, .yml; .tf, .tfvars, .hcl;
//     .sh), text otherwise. In a text file, or one with raw: true, values
//     go in unescaped, so every parameter used there must be an enum, have
//     a pattern, or be a number or a boolean (checked at creation).
//   - In an argument vector (shell: false), {{ name }} fills one argument.
//   - With shell: true, commands may hold no {{ }}: they read
//     "$PURSER_PARAM_<NAME>" from the environment instead.
//
// Each request gets a work directory, under the driver's WorkDir, holding
// the rendered files and params.json. A command runs there with a clean
// environment: PATH, HOME (the work directory), the operator's Env,
// PURSER_PARAM_<NAME>, PURSER_OUTPUTS (a file to write a JSON object of
// outputs to), PURSER_WORKDIR, PURSER_REQUEST_ID and PURSER_OWNER; nothing
// of the server's own. It runs as the run-as user when one is set; a
// server running as root without one refuses to run commands.
//
// A command leads its own process group, killed whole when the command
// ends, fails, times out or is cancelled, and when the server dies, even
// by kill -9 (see wrapper); a pid file lets the next start kill a group a
// dead server left. One run of a request holds an flock for its whole
// duration, so two runs of one request never overlap, in one process or
// in replicas sharing the work directory's file system; replicas on
// different hosts rely on River running a job once at a time.
//
// Output is logged line by line, with secret parameter values, the
// server's own secrets (Redact) and anything shaped like a Purser token or
// a sealed value redacted.
package exec

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/purserhq/purser"
)

// Name is the driver's name in templates.
const Name = "exec"

// Limits.
const (
	MaxFileSize      = 1 << 20 // a template file, fetched or read
	MaxTemplateFiles = 4 << 20 // all of a template's files together
	DefaultTimeout   = 30 * time.Minute
	tailLines        = 20 // lines of output quoted in a failure
)

// Config is what the driver is given.
type Config struct {
	// WorkDir holds one directory per request; an absolute path.
	WorkDir string
	// TemplatesDir is where `source:` files are read from ("" forbids them).
	TemplatesDir string
	// Concurrency is how many commands run at once (default 2).
	Concurrency int
	// Env is added to every command's environment (PATH may be among it).
	Env map[string]string
	// RunAs is the user commands run as: a name, or uid[:gid]. Empty:
	// the server's user, which is refused when that is root.
	RunAs string
	// Redact are the server's own secrets, hidden from every log line.
	Redact []string
}

// Driver runs templates' commands.
type Driver struct {
	// WorkDir holds one directory per request.
	WorkDir string
	// TemplatesDir is where `source:` files are read from ("" forbids them).
	TemplatesDir string
	// HTTPClient fetches `url:` files.
	HTTPClient *http.Client
	// Env is added to every command's environment.
	Env map[string]string

	cred     *syscall.Credential // nil: the server's own user
	redact   []string
	disabled error
	sem      chan struct{}
}

var (
	_ purser.Driver           = (*Driver)(nil)
	_ purser.TemplatePreparer = (*Driver)(nil)
)

// New returns a driver and kills whatever groups a previous server left
// running. A driver that cannot run commands safely (the server is root
// and RunAs is empty, RunAs names no user, the work directory is out of
// its reach) is still returned, but refuses every call with the reason,
// which Disabled reports.
func New(c Config) *Driver { return newWithEUID(c, os.Geteuid()) }

func newWithEUID(c Config, euid int) *Driver {
	if c.Concurrency < 1 {
		c.Concurrency = 2
	}
	d := &Driver{WorkDir: c.WorkDir, TemplatesDir: c.TemplatesDir, HTTPClient: &http.Client{Timeout: 30 * time.Second},
		Env: c.Env, redact: c.Redact, sem: make(chan struct{}, c.Concurrency)}
	if err := d.setUp(c, euid); err != nil {
		d.disabled = &purser.Error{Code: purser.EUNAVAILABLE, Message: "the exec driver is disabled: " + err.Error(), Err: err}
	}
	return d
}

func (d *Driver) setUp(c Config, euid int) error {
	if c.RunAs == "" && euid == 0 {
		return errors.New("the server runs as root and exec.run_as is not set " +
			"(name an unprivileged user, e.g. useradd --system purser-exec and exec.run_as: purser-exec)")
	}
	if !filepath.IsAbs(c.WorkDir) {
		return fmt.Errorf("exec.work_dir %q is not an absolute path", c.WorkDir)
	}
	if c.RunAs != "" {
		cred, err := credential(c.RunAs)
		if err != nil {
			return err
		}
		d.cred = cred
	}
	if err := os.MkdirAll(c.WorkDir, 0o711); err != nil {
		return fmt.Errorf("exec.work_dir: %v", err)
	}
	if err := os.Chmod(c.WorkDir, 0o711); err != nil {
		return fmt.Errorf("exec.work_dir: %v", err)
	}
	if d.cred != nil {
		if err := reachable(c.WorkDir, d.cred); err != nil {
			return err
		}
	}
	return d.cleanup()
}

// Disabled returns why the driver refuses to run commands, or nil.
func (d *Driver) Disabled() error { return d.disabled }

// credential looks up the run-as user: a name, or uid[:gid].
func credential(runAs string) (*syscall.Credential, error) {
	name, group, hasGroup := strings.Cut(runAs, ":")
	var u *user.User
	var err error
	if _, numErr := strconv.ParseUint(name, 10, 32); numErr == nil {
		if u, err = user.LookupId(name); err != nil {
			u = &user.User{Uid: name, Gid: name} // a uid with no passwd entry
		}
	} else if u, err = user.Lookup(name); err != nil {
		return nil, fmt.Errorf("exec.run_as names no user %q", name)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	var groups []uint32
	if ids, err := u.GroupIds(); err == nil && !hasGroup {
		for _, id := range ids {
			if n, err := strconv.ParseUint(id, 10, 32); err == nil {
				groups = append(groups, uint32(n))
			}
		}
	}
	if hasGroup {
		n, err := strconv.ParseUint(group, 10, 32)
		if err != nil {
			g, lerr := user.LookupGroup(group)
			if lerr != nil {
				return nil, fmt.Errorf("exec.run_as names no group %q", group)
			}
			n, _ = strconv.ParseUint(g.Gid, 10, 32)
		}
		gid = n
	}
	if uid == 0 {
		return nil, errors.New("exec.run_as must not be root")
	}
	// Groups empty: supplementary groups are cleared, not inherited.
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: groups}, nil
}

// reachable checks that the run-as user can traverse every directory
// above dir.
func reachable(dir string, c *syscall.Credential) error {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		m := fi.Mode().Perm()
		inGroup := st.Gid == c.Gid || slices.Contains(c.Groups, st.Gid)
		if !(m&0o001 != 0 || st.Uid == c.Uid && m&0o100 != 0 || inGroup && m&0o010 != 0) {
			return fmt.Errorf("the run-as user (uid %d) cannot reach exec.work_dir %s: %s is mode %o; "+
				"let it traverse (chmod o+x) or choose another exec.work_dir", c.Uid, dir, p, m)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// Name implements purser.Driver.
func (d *Driver) Name() string { return Name }

// ResourceTypes implements purser.Driver: a script can make anything.
func (d *Driver) ResourceTypes() []string {
	return []string{"KUBERNETES", "INSTANCE", "S3BUCKET", "OTHER"}
}

// Provision renders the files and runs the provision command; its outputs
// are the JSON object it wrote to $PURSER_OUTPUTS.
func (d *Driver) Provision(ctx context.Context, env purser.Environment) (map[string]string, error) {
	if d.disabled != nil {
		return nil, d.disabled
	}
	s, err := parseSpec(env.Config)
	if err != nil {
		return nil, err
	}
	log := d.tail(env)
	unlock, err := d.lock(ctx, env.RequestID, log)
	if err != nil {
		return nil, err
	}
	defer unlock(false)
	dir, err := d.prepare(env, s)
	if err != nil {
		return nil, err
	}
	if err := os.Remove(filepath.Join(dir, "outputs.json")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := d.run(ctx, env, s, dir, s.Provision, log); err != nil {
		return nil, err
	}
	return readOutputs(dir)
}

// Destroy runs the destroy command in the request's work directory (made
// again if it is gone), then removes the directory.
func (d *Driver) Destroy(ctx context.Context, env purser.Environment) error {
	if d.disabled != nil {
		return d.disabled
	}
	s, err := parseSpec(env.Config)
	if err != nil {
		return err
	}
	log := d.tail(env)
	unlock, err := d.lock(ctx, env.RequestID, log)
	if err != nil {
		return err
	}
	dir, err := d.prepare(env, s)
	if err != nil {
		unlock(false)
		return err
	}
	if len(s.Destroy) > 0 {
		if err := d.run(ctx, env, s, dir, s.Destroy, log); err != nil {
			unlock(false)
			return err
		}
	}
	err = os.RemoveAll(dir)
	unlock(err == nil)
	return err
}

func (d *Driver) tail(env purser.Environment) *tail {
	return newTail(env, newRedactor(env.Secrets, d.redact), tailLines)
}
