// Package cli is purser's command line: every subcommand but the server.
// It talks to a server only through the public client package.
package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
	"golang.org/x/term"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/client"
)

// UsageError is an error in how the command was called (flags, arguments),
// as opposed to one from the server: the binary exits 2 on it.
type UsageError struct{ error }

// NewRootCmd returns the purser command with every CLI subcommand and the
// extra ones the binary adds (the server). An error it returns for a misuse
// of flags or arguments is a UsageError.
func NewRootCmd(stdin io.Reader, stdout, stderr io.Writer, extra ...*cobra.Command) *cobra.Command {
	cli := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "purser",
		Short: "Purser: self-service infrastructure control plane",
		Long: "Purser: developers ask for environments, DevOps keeps the guardrails.\n\n" +
			"`purser server` runs the control plane; the other commands talk to one.\n\n" + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		// --version is the root's own flag rather than cobra's Version
		// with a version template: executing a text/template makes the
		// linker keep every exported method of every type in the binary
		// (bench/README.md, Footprint).
		RunE: func(cmd *cobra.Command, _ []string) error {
			if v, _ := cmd.Flags().GetBool("version"); v {
				_, err := fmt.Fprintln(cli.stdout, "purser "+purser.Version)
				return err
			}
			return cmd.Help()
		},
	}
	root.Flags().BoolP("version", "v", false, "version for purser")
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetIn(stdin)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return UsageError{err} })
	pf := root.PersistentFlags()
	// No backquotes in usage texts: pflag takes a quoted word as the
	// flag's value name ("--server purser login").
	pf.StringVar(&cli.server, "server", "", "server URL, e.g. http://127.0.0.1:8080 (default: saved by 'purser login', or $PURSER_SERVER)")
	pf.StringVar(&cli.token, "token", "", "API token (default: saved by 'purser login', or $PURSER_TOKEN)")
	pf.StringVarP(&cli.output, "output", "o", "table", "output format: table, wide (more columns), name (ids only), json or yaml")
	pf.BoolVar(&cli.noHeaders, "no-headers", false, "in table output, print no header row and no page footer")
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(outputFormats, cobra.ShellCompDirectiveNoFileComp))

	root.AddCommand(extra...)
	root.AddCommand(newVersionCmd(cli), newLoginCmd(cli), newWhoamiCmd(cli),
		newUsersCmd(cli), newRolesCmd(cli), newTokensCmd(cli), newTemplatesCmd(cli), newRequestCmd(cli), newQuotasCmd(cli),
		newInboxCmd(cli), newEventsCmd(cli), newClustersCmd(cli), newStacksCmd(cli))
	root.AddCommand(newHostsCmd(cli), newJoinTokensCmd(cli), newPoolsCmd(cli), newAgentCmd(cli))
	finish(root)
	return root
}

// finish walks the built tree: a wrong number of arguments is a usage
// error (exit 2), and list commands get their examples, which need the
// command's whole path.
func finish(cmd *cobra.Command) {
	if args := cmd.Args; args != nil {
		cmd.Args = func(c *cobra.Command, a []string) error {
			if err := args(c, a); err != nil {
				return UsageError{err}
			}
			return nil
		}
	}
	if where := cmd.Annotations["where"]; where != "" {
		p := cmd.CommandPath()
		ex := "  " + p + " --where '" + where + "'\n  " + p + " --sort -_created --max-results 10 -o wide"
		if cmd.Example != "" {
			ex = cmd.Example + "\n" + ex
		}
		cmd.Example = ex
	}
	for _, c := range cmd.Commands() {
		finish(c)
	}
}

func newVersionCmd(cli *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print purser's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cli.stdout, "purser "+purser.Version)
			return err
		},
	}
}

// env is what every CLI command shares.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	server, token  string
	output         string
	noHeaders      bool
}

var outputFormats = []string{"table", "wide", "name", "json", "yaml"}

// wide reports whether tables show their extra columns (-o wide).
func (c *env) wide() bool { return c.output == "wide" }

// tableOutput reports whether the output is a table (table or wide).
func (c *env) tableOutput() bool { return c.output == "table" || c.output == "wide" || c.output == "" }

// savedLogin is the CLI's configuration file, written by `purser login`.
type savedLogin struct {
	Server string `yaml:"server"`
	Token  string `yaml:"token"`
}

// loginPath is where `purser login` saves the server and token.
func loginPath() (string, error) {
	if p := os.Getenv("PURSER_CLI_CONFIG"); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no configuration directory: %w", err)
	}
	return filepath.Join(dir, "purser", "config.yaml"), nil
}

func loadLogin() (savedLogin, error) {
	var l savedLogin
	p, err := loginPath()
	if err != nil {
		return l, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return l, nil
	} else if err != nil {
		return l, err
	}
	if err := yaml.Unmarshal(data, &l); err != nil {
		return l, fmt.Errorf("%s: %w", p, err)
	}
	return l, nil
}

func saveLogin(l savedLogin) (string, error) {
	p, err := loginPath()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", err
	}
	data, err := yaml.Marshal(l)
	if err != nil {
		return "", err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return "", err
	}
	return p, os.Rename(tmp, p)
}

// client returns an API client: flags, then environment, then the saved login.
func (c *env) client() (*client.Client, error) {
	l, err := loadLogin()
	if err != nil {
		return nil, err
	}
	server := firstNonEmpty(c.server, os.Getenv("PURSER_SERVER"), l.Server)
	token := firstNonEmpty(c.token, os.Getenv("PURSER_TOKEN"), l.Token)
	if server == "" {
		return nil, notLoggedIn{errors.New("no server: run `purser login --server URL --token TOKEN`, or pass --server")}
	}
	if server, err = serverURL(server); err != nil {
		return nil, err
	}
	return client.New(server, token), nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// render prints v as JSON or YAML, its ids (-o name), or calls table to
// print it as a table (table and wide; with --no-headers, without its
// first line and anything after its first blank line).
func (c *env) render(v any, table func(w io.Writer)) error {
	switch c.output {
	case "name":
		return printNames(c.stdout, v)
	case "json":
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "yaml":
		// Through JSON, so that YAML keys are the API's field names.
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		var generic any
		if err := json.Unmarshal(data, &generic); err != nil {
			return err
		}
		return yaml.NewEncoder(c.stdout).Encode(generic)
	case "table", "wide", "":
		if table == nil {
			c.output = "yaml"
			return c.render(v, nil)
		}
		var w io.Writer = c.stdout
		if c.noHeaders {
			w = &headless{w: c.stdout}
		}
		tw := newTable(w)
		table(tw)
		return tw.Flush()
	}
	return UsageError{fmt.Errorf("--output must be one of %s, not %q", strings.Join(outputFormats, ", "), c.output)}
}

// view prints one document: its key/value view in table output (which
// has no header for --no-headers to drop).
func (c *env) view(v any, kv func(w io.Writer)) error {
	saved := c.noHeaders
	c.noHeaders = false
	defer func() { c.noHeaders = saved }()
	return c.render(v, kv)
}

// headless drops a table's header (its first line) and what follows its
// first blank line (footers, notes).
type headless struct {
	w       io.Writer
	started bool
	line    []byte
	done    bool
}

func (h *headless) Write(p []byte) (int, error) {
	for _, b := range p {
		if h.done {
			break
		}
		h.line = append(h.line, b)
		if b != '\n' {
			continue
		}
		line := h.line
		h.line = nil
		switch {
		case !h.started:
			h.started = true
		case strings.TrimSpace(string(line)) == "":
			h.done = true
		default:
			if _, err := h.w.Write(line); err != nil {
				return 0, err
			}
		}
	}
	return len(p), nil
}

// printNames prints the id of v, or of each of its items, one a line.
func printNames(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		return err
	}
	items := []any{doc}
	if m, ok := doc.(map[string]any); ok && m["_items"] != nil {
		items, _ = m["_items"].([]any)
	} else if l, ok := doc.([]any); ok {
		items = l
	}
	for _, it := range items {
		m, _ := it.(map[string]any)
		for _, k := range []string{"_id", "name", "role", "username", "user"} {
			if s, ok := m[k].(string); ok && s != "" {
				if _, err := fmt.Fprintln(w, s); err != nil {
					return err
				}
				break
			}
		}
	}
	return nil
}

func row(w io.Writer, cols ...string) { fmt.Fprintln(w, strings.Join(cols, "\t")) }

func since(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	d := time.Since(*t)
	switch {
	case d < -time.Minute:
		return "in " + humanDuration(-d)
	case d < time.Minute:
		return "just now"
	case d < 48*time.Hour:
		return humanDuration(d) + " ago"
	}
	return t.Local().Format("2006-01-02")
}

// when prints a time with its zone: "2026-12-01 15:04 UTC".
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04 MST")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// OneLine flattens an error message onto one line.
func OneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// confirm asks a yes/no question on a terminal; without one it refuses,
// saying to pass --yes.
func (c *env) confirm(question string) error {
	f, ok := c.stdin.(*os.File)
	if !ok || !isTerminal(f) {
		return UsageError{fmt.Errorf("%s Not asking without a terminal: pass --yes to confirm", question)}
	}
	fmt.Fprintf(c.stderr, "%s [y/N] ", question)
	var answer string
	_, _ = fmt.Fscanln(c.stdin, &answer)
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
		return errors.New("not confirmed; nothing done")
	}
	return nil
}

// isTerminal reports whether f is a terminal (not /dev/null, which is a
// character device too).
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
