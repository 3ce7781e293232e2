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
//	  provision: [eksctl, create, cluster, -f, cluster.yaml]
//	  destroy:   [eksctl, delete, cluster, -f, cluster.yaml]
//	  shell: false      # true: each command is one string run by sh -c
//	  timeout: 30m
//
// Each request gets a work directory holding the rendered files and
// params.json; parameters are also in the environment as
// PURSER_PARAM_<NAME>, and the command may write a JSON object of outputs
// to the file named by PURSER_OUTPUTS. Output is logged line by line,
// with secret parameter values redacted.
package exec

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	osexec "os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/purserhq/purser"
)

// Name is the driver's name in templates.
const Name = "exec"

// Limits.
const (
	MaxFileSize    = 1 << 20 // a template file, fetched or read
	DefaultTimeout = 30 * time.Minute
	tailLines      = 20 // lines of output quoted in a failure
)

// Driver runs templates' commands.
type Driver struct {
	// WorkDir holds one directory per request.
	WorkDir string
	// TemplatesDir is where `source:` files are read from ("" forbids them).
	TemplatesDir string
	// HTTPClient fetches `url:` files.
	HTTPClient *http.Client

	sem chan struct{}
}

var (
	_ purser.Driver           = (*Driver)(nil)
	_ purser.TemplatePreparer = (*Driver)(nil)
)

// New returns a driver running at most concurrency commands at once.
func New(workDir, templatesDir string, concurrency int) *Driver {
	if concurrency < 1 {
		concurrency = 2
	}
	return &Driver{WorkDir: workDir, TemplatesDir: templatesDir, HTTPClient: &http.Client{Timeout: 30 * time.Second},
		sem: make(chan struct{}, concurrency)}
}

// Name implements purser.Driver.
func (d *Driver) Name() string { return Name }

// ResourceTypes implements purser.Driver: a script can make anything.
func (d *Driver) ResourceTypes() []string {
	return []string{"KUBERNETES", "INSTANCE", "S3BUCKET", "OTHER"}
}

// File is one file of a template.
type File struct {
	Path    string `json:"path"`
	Content string `json:"content,omitempty"`
	Source  string `json:"source,omitempty"`
	URL     string `json:"url,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
}

// Spec is an exec template's config.
type Spec struct {
	Files     []File  `json:"files,omitempty"`
	Provision Command `json:"provision"`
	Destroy   Command `json:"destroy,omitempty"`
	Shell     bool    `json:"shell,omitempty"`
	Timeout   string  `json:"timeout,omitempty"`
}

// Command is an argument vector; a single string is a one-element vector
// (the script, with shell: true).
type Command []string

// UnmarshalJSON accepts a list of strings or one string.
func (c *Command) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*c = Command{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return errors.New("a command is a list of arguments, or one string with shell: true")
	}
	*c = l
	return nil
}

func parseSpec(config map[string]any) (*Spec, error) {
	b, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	var s Spec
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, err
	}
	return &s, nil
}

// placeholder matches {{ name }}, spaces inside the braces optional.
var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// Render replaces every {{ name }} in text with the parameter's value; a
// placeholder with no value is an error naming it.
func Render(text string, params map[string]any) (string, error) {
	var missing []string
	out := placeholder.ReplaceAllStringFunc(text, func(m string) string {
		name := placeholder.FindStringSubmatch(m)[1]
		v, ok := params[name]
		if !ok || v == nil {
			missing = append(missing, name)
			return m
		}
		return fmt.Sprint(v)
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("no value for %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// PrepareTemplate checks an exec template and stores its files' contents
// in its config, so that provisioning never depends on a URL or a path.
func (d *Driver) PrepareTemplate(ctx context.Context, t *purser.Template) error {
	s, err := parseSpec(t.Config)
	if err != nil {
		return purser.Invalid(purser.FieldError{Field: "config", Rule: "format", Message: err.Error()})
	}
	var fe []purser.FieldError
	add := func(field, rule, msg string) {
		fe = append(fe, purser.FieldError{Field: field, Rule: rule, Message: msg})
	}
	if len(s.Provision) == 0 {
		add("config.provision", "required", "an exec template needs a provision command")
	}
	if s.Shell && (len(s.Provision) > 1 || len(s.Destroy) > 1) {
		add("config.shell", "format", "with shell: true each command is a single string")
	}
	if s.Timeout != "" {
		if _, err := time.ParseDuration(s.Timeout); err != nil {
			add("config.timeout", "format", "must be a duration such as 30m")
		}
	}
	params := map[string]bool{}
	for _, p := range t.Params {
		params[p.Name] = true
	}
	for i := range s.Files {
		f := &s.Files[i]
		field := fmt.Sprintf("config.files[%d]", i)
		clean := filepath.Clean(f.Path)
		if f.Path == "" || filepath.IsAbs(clean) || strings.HasPrefix(clean, "..") || clean == "params.json" || clean == "outputs.json" {
			add(field+".path", "format", "must be a relative path inside the work directory (not params.json or outputs.json)")
			continue
		}
		n := 0
		for _, x := range []string{f.Content, f.Source, f.URL} {
			if x != "" {
				n++
			}
		}
		if n != 1 {
			add(field, "one_of", "give exactly one of content, source or url")
			continue
		}
		content, err := d.fetch(ctx, f)
		if err != nil {
			add(field, "fetch", err.Error())
			continue
		}
		for _, m := range placeholder.FindAllStringSubmatch(content, -1) {
			if !params[m[1]] {
				add(field, "placeholder", fmt.Sprintf("{{ %s }} names no parameter of the template", m[1]))
			}
		}
		*f = File{Path: clean, Content: content}
	}
	for _, argv := range []Command{s.Provision, s.Destroy} {
		for _, a := range argv {
			for _, m := range placeholder.FindAllStringSubmatch(a, -1) {
				if !params[m[1]] {
					add("config.provision", "placeholder", fmt.Sprintf("{{ %s }} names no parameter of the template", m[1]))
				}
			}
		}
	}
	if len(fe) > 0 {
		return purser.Invalid(fe...)
	}
	b, _ := json.Marshal(s)
	var cfg map[string]any
	_ = json.Unmarshal(b, &cfg)
	t.Config = cfg
	return nil
}

func (d *Driver) fetch(ctx context.Context, f *File) (string, error) {
	var data []byte
	switch {
	case f.Content != "":
		return f.Content, nil
	case f.Source != "":
		if d.TemplatesDir == "" {
			return "", errors.New("source files need exec.templates_dir configured")
		}
		p := filepath.Join(d.TemplatesDir, filepath.Clean("/"+f.Source))
		st, err := os.Stat(p)
		if err != nil {
			return "", fmt.Errorf("source %s: %v", f.Source, err)
		}
		if st.Size() > MaxFileSize {
			return "", fmt.Errorf("source %s is over %d bytes", f.Source, MaxFileSize)
		}
		if data, err = os.ReadFile(p); err != nil {
			return "", err
		}
	default:
		if !strings.HasPrefix(f.URL, "https://") && !strings.HasPrefix(f.URL, "http://") {
			return "", errors.New("url must be http(s)")
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
		if err != nil {
			return "", err
		}
		resp, err := d.HTTPClient.Do(req)
		if err != nil {
			return "", fmt.Errorf("fetch %s: %v", f.URL, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("fetch %s: %s", f.URL, resp.Status)
		}
		data, err = io.ReadAll(io.LimitReader(resp.Body, MaxFileSize+1))
		if err != nil {
			return "", fmt.Errorf("fetch %s: %v", f.URL, err)
		}
		if len(data) > MaxFileSize {
			return "", fmt.Errorf("%s is over %d bytes", f.URL, MaxFileSize)
		}
	}
	if f.SHA256 != "" {
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, f.SHA256) {
			return "", fmt.Errorf("sha256 is %s, not the pinned %s", got, f.SHA256)
		}
	}
	return string(data), nil
}

// Provision renders the files and runs the provision command; its outputs
// are the JSON object it wrote to $PURSER_OUTPUTS.
func (d *Driver) Provision(ctx context.Context, env purser.Environment) (map[string]string, error) {
	s, err := parseSpec(env.Config)
	if err != nil {
		return nil, err
	}
	dir, err := d.prepare(env, s)
	if err != nil {
		return nil, err
	}
	outFile := filepath.Join(dir, "outputs.json")
	_ = os.Remove(outFile)
	if err := d.run(ctx, env, s, dir, s.Provision); err != nil {
		return nil, err
	}
	return readOutputs(outFile)
}

// Destroy runs the destroy command in the request's work directory (made
// again if it is gone), then removes the directory.
func (d *Driver) Destroy(ctx context.Context, env purser.Environment) error {
	s, err := parseSpec(env.Config)
	if err != nil {
		return err
	}
	dir, err := d.prepare(env, s)
	if err != nil {
		return err
	}
	if len(s.Destroy) > 0 {
		if err := d.run(ctx, env, s, dir, s.Destroy); err != nil {
			return err
		}
	}
	return os.RemoveAll(dir)
}

// prepare makes the work directory with the rendered files and params.json.
func (d *Driver) prepare(env purser.Environment, s *Spec) (string, error) {
	dir := filepath.Join(d.WorkDir, env.RequestID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	for _, f := range s.Files {
		text, err := Render(f.Content, env.Params)
		if err != nil {
			return "", fmt.Errorf("render %s: %w", f.Path, err)
		}
		p := filepath.Join(dir, f.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			return "", err
		}
	}
	b, _ := json.MarshalIndent(env.Params, "", "  ")
	return dir, os.WriteFile(filepath.Join(dir, "params.json"), b, 0o600)
}

func readOutputs(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	} else if err != nil {
		return nil, err
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("$PURSER_OUTPUTS is not a JSON object: %v", err)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		if s, ok := v.(string); ok {
			out[k] = s
		} else {
			b, _ := json.Marshal(v)
			out[k] = string(b)
		}
	}
	return out, nil
}

// run runs one command in its own process group, logging its output; on
// cancellation or timeout the whole group is killed.
func (d *Driver) run(ctx context.Context, env purser.Environment, s *Spec, dir string, argv Command) error {
	select {
	case d.sem <- struct{}{}:
		defer func() { <-d.sem }()
	case <-ctx.Done():
		return ctx.Err()
	}
	timeout := DefaultTimeout
	if s.Timeout != "" {
		timeout, _ = time.ParseDuration(s.Timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	args := make([]string, len(argv))
	for i, a := range argv {
		r, err := Render(a, env.Params)
		if err != nil {
			return fmt.Errorf("command: %w", err)
		}
		args[i] = r
	}
	if s.Shell {
		args = []string{"/bin/sh", "-c", args[0]}
	}
	cmd := osexec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PURSER_OUTPUTS="+filepath.Join(dir, "outputs.json"), "PURSER_REQUEST_ID="+env.RequestID,
		"PURSER_OWNER="+env.Owner, "PURSER_WORKDIR="+dir)
	names := make([]string, 0, len(env.Params))
	for k := range env.Params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		cmd.Env = append(cmd.Env, "PURSER_PARAM_"+strings.ToUpper(k)+"="+fmt.Sprint(env.Params[k]))
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	log := newTail(env, tailLines)
	log.note(fmt.Sprintf("$ %s", strings.Join(args, " ")))
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", args[0], err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); log.copy("stdout", stdout) }()
	go func() { defer wg.Done(); log.copy("stderr", stderr) }()
	wg.Wait()
	err = cmd.Wait()
	// Whatever the outcome, nothing of the group may outlive the command.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return fmt.Errorf("%s timed out after %s; last output:\n%s", args[0], timeout, log.last())
	case err != nil:
		return fmt.Errorf("%s failed (%v); last output:\n%s", args[0], err, log.last())
	}
	return nil
}

// tail logs lines through the environment's writer, redacting secrets,
// and keeps the last few for error messages.
type tail struct {
	env     purser.Environment
	mu      sync.Mutex
	lines   []string
	max     int
	replace *strings.Replacer
}

func newTail(env purser.Environment, max int) *tail {
	var pairs []string
	for _, s := range env.Secrets {
		if s != "" {
			pairs = append(pairs, s, "[redacted]")
		}
	}
	return &tail{env: env, max: max, replace: strings.NewReplacer(pairs...)}
}

func (t *tail) note(line string) { t.add("purser", line) }

func (t *tail) add(stream, line string) {
	line = t.replace.Replace(line)
	t.mu.Lock()
	t.lines = append(t.lines, line)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
	t.mu.Unlock()
	if t.env.Log != nil {
		t.env.Log.WriteLine(stream, line)
	}
}

func (t *tail) copy(stream string, r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		t.add(stream, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.note(fmt.Sprintf("[%s: %v; the rest of it was not logged]", stream, err))
		_, _ = io.Copy(io.Discard, r) // keep draining, or the command blocks on a full pipe
	}
}

func (t *tail) last() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}
