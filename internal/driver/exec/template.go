package exec

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/purserhq/purser"
)

// File is one file of a template.
type File struct {
	Path    string `json:"path"`
	Content string `json:"content,omitempty"`
	Source  string `json:"source,omitempty"`
	URL     string `json:"url,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
	// Kind is the file's language (json, yaml, hcl, shell, text); empty:
	// implied by the extension, text for an unknown one.
	Kind Kind `json:"kind,omitempty"`
	// Raw inserts values unescaped, as in a text file.
	Raw bool `json:"raw,omitempty"`
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

// PrepareTemplate checks an exec template and stores its files' contents
// in its config, so that provisioning never depends on a URL or a path.
func (d *Driver) PrepareTemplate(ctx context.Context, t *purser.Template) error {
	if d.disabled != nil {
		return d.disabled
	}
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
	params := map[string]purser.Param{}
	for _, p := range t.Params {
		params[p.Name] = p
	}
	total := 0
	for i := range s.Files {
		f := &s.Files[i]
		field := fmt.Sprintf("config.files[%d]", i)
		clean := filepath.Clean(f.Path)
		if f.Path == "" || filepath.IsAbs(clean) || strings.HasPrefix(clean, "..") || clean == "params.json" || clean == "outputs.json" {
			add(field+".path", "format", "must be a relative path inside the work directory (not params.json or outputs.json)")
			continue
		}
		switch f.Kind {
		case "", KindJSON, KindYAML, KindHCL, KindShell, KindText:
		default:
			add(field+".kind", "enum", "must be json, yaml, hcl, shell or text")
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
		if total += len(content); total > MaxTemplateFiles {
			add(field, "size", fmt.Sprintf("a template's files may hold %d bytes in all", MaxTemplateFiles))
			continue
		}
		kind := kindOf(*f)
		for _, name := range placeholders(content) {
			p, ok := params[name]
			switch {
			case !ok:
				add(field, "placeholder", fmt.Sprintf("{{ %s }} names no parameter of the template", name))
			case (kind == KindText || f.Raw) && !rawSafe(p):
				add(field, "raw", fmt.Sprintf("{{ %s }} would be written unescaped into a %s file: give parameter %s an enum or a pattern, "+
					"or declare the file's kind (json, yaml, hcl or shell) so that its value is quoted", name, kindOrRaw(kind, f.Raw), name))
			}
		}
		*f = File{Path: clean, Content: content, Kind: kind, Raw: f.Raw}
	}
	for _, c := range []struct {
		field string
		argv  Command
	}{{"config.provision", s.Provision}, {"config.destroy", s.Destroy}} {
		for _, a := range c.argv {
			for _, name := range placeholders(a) {
				if s.Shell {
					add(c.field, "placeholder", fmt.Sprintf("with shell: true a command may not contain {{ %s }}: "+
						"use \"$PURSER_PARAM_%s\" (in double quotes) instead", name, strings.ToUpper(name)))
				} else if _, ok := params[name]; !ok {
					add(c.field, "placeholder", fmt.Sprintf("{{ %s }} names no parameter of the template", name))
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

func kindOrRaw(k Kind, raw bool) string {
	if raw {
		return "raw"
	}
	return string(k)
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
		// os.Root refuses a path or a symbolic link leading out of the
		// templates directory, at the moment of opening.
		root, err := os.OpenRoot(d.TemplatesDir)
		if err != nil {
			return "", fmt.Errorf("templates directory: %v", err)
		}
		defer root.Close()
		name := strings.TrimPrefix(filepath.Clean("/"+f.Source), "/")
		file, err := root.Open(name)
		if err != nil {
			if strings.Contains(err.Error(), "escapes") {
				return "", fmt.Errorf("source %s leads out of the templates directory", f.Source)
			}
			return "", fmt.Errorf("source %s: %v", f.Source, errors.Unwrap(err))
		}
		defer file.Close()
		if data, err = io.ReadAll(io.LimitReader(file, MaxFileSize+1)); err != nil {
			return "", fmt.Errorf("source %s: %v", f.Source, err)
		}
		if len(data) > MaxFileSize {
			return "", fmt.Errorf("source %s is over %d bytes", f.Source, MaxFileSize)
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
			// The *url.Error names the URL that failed, which after a
			// redirect is one the template's author never wrote: say only
			// what went wrong ("refused by outbound policy").
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
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
