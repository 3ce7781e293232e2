package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/purserhq/purser/client"
)

// hookFlags are --join-hook, --leave-hook, --reboot-hook and --hooks.
type hookFlags struct {
	join, leave, reboot, file string
}

func (f *hookFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	how := ": a JSON list of arguments, or words split at spaces; {{ pool }}, {{ cluster }}, {{ server }}, {{ host }} and {{ address }} are replaced"
	fl.StringVar(&f.join, "join-hook", "", "the command a host's agent runs to join the pool"+how)
	fl.StringVar(&f.leave, "leave-hook", "", "the command a joined host's agent runs to leave the pool")
	fl.StringVar(&f.reboot, "reboot-hook", "", "the command purser hosts reboot runs on a member")
	fl.StringVar(&f.file, "hooks", "", "a YAML or JSON file {join: [...], leave: [...], reboot: [...]} (the flags override it)")
}

// set reports whether any hook was given.
func (f *hookFlags) set() bool {
	return f.join != "" || f.leave != "" || f.reboot != "" || f.file != ""
}

// hooks reads the file, then the flags over it.
func (f *hookFlags) hooks() (client.PoolHooks, error) {
	var h client.PoolHooks
	if f.file != "" {
		b, err := os.ReadFile(f.file)
		if err != nil {
			return h, UsageError{fmt.Errorf("--hooks: %w", err)}
		}
		if err := yaml.Unmarshal(b, &h); err != nil {
			return h, UsageError{fmt.Errorf("--hooks %s: %w", f.file, err)}
		}
	}
	for _, x := range []struct {
		flag, v string
		to      *[]string
	}{{"--join-hook", f.join, &h.Join}, {"--leave-hook", f.leave, &h.Leave}, {"--reboot-hook", f.reboot, &h.Reboot}} {
		if x.v == "" {
			continue
		}
		argv, err := hookArgv(x.v)
		if err != nil {
			return h, UsageError{fmt.Errorf("%s: %w", x.flag, err)}
		}
		*x.to = argv
	}
	return h, nil
}

// hookArgv reads a hook flag: a JSON list, or words split at spaces.
func hookArgv(s string) ([]string, error) {
	if strings.HasPrefix(strings.TrimSpace(s), "[") {
		var argv []string
		if err := json.Unmarshal([]byte(s), &argv); err != nil {
			return nil, fmt.Errorf("not a JSON list of strings: %w", err)
		}
		return argv, nil
	}
	return strings.Fields(s), nil
}

func newPoolHooksCmd(cli *env) *cobra.Command {
	var hf hookFlags
	cmd := &cobra.Command{Use: "hooks NAME [--join-hook CMD] [--leave-hook CMD] [--reboot-hook CMD] [--hooks FILE]",
		Short: "Replace a pool's hooks (runs already queued keep theirs)", Args: cobra.ExactArgs(1),
		Example: "  purser pools hooks web --join-hook '[\"/usr/local/bin/join-node\", \"--server\", \"{{ server }}\", \"{{ host }}\"]' \\\n" +
			"    --leave-hook '/usr/local/bin/leave-node {{ host }}'",
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			h, err := hf.hooks()
			if err != nil {
				return err
			}
			p, err := c.SetPoolHooks(cmd.Context(), args[0], h)
			if err != nil {
				return err
			}
			return cli.render(p, func(w io.Writer) { poolView(w, p) })
		}}
	hf.add(cmd)
	return cmd
}

func hookRunTable(w io.Writer, runs []client.HookRun) {
	row(w, "ID", "KIND", "POOL", "STATE", "EXIT", "CREATED", "ERROR")
	for _, r := range runs {
		exit := "-"
		if r.Finished != nil {
			exit = fmt.Sprint(r.ExitCode)
		}
		row(w, r.ID, r.Kind, r.Pool, r.State, exit, r.Created.Format("2006-01-02T15:04:05Z07:00"), dash(r.Error))
	}
}

// newHostHookCmds are hosts reboot, runs and run-log.
func newHostHookCmds(cli *env) []*cobra.Command {
	reboot := &cobra.Command{Use: "reboot HOST", Short: "Run the reboot hook of the host's pool on it", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			r, err := c.RebootHost(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return cli.render(r, func(w io.Writer) { hookRunTable(w, []client.HookRun{*r}) })
		}}
	var lo client.ListOptions
	runs := &cobra.Command{Use: "runs HOST", Short: "List the hook runs of a host (join, leave, reboot)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			l, err := c.ListHookRuns(cmd.Context(), args[0], lo)
			if err != nil {
				return err
			}
			return cli.render(l, func(w io.Writer) { hookRunTable(w, l.Items); pageFooter(w, l.Meta, len(l.Items)) })
		}}
	listFlags(runs, &lo, `{"kind":"join"}`, "_created")
	log := &cobra.Command{Use: "run-log HOST RUN", Short: "Print a hook run's output", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			l, err := c.HookRunLogs(cmd.Context(), args[0], args[1], 0)
			if err != nil {
				return err
			}
			return cli.render(l, func(w io.Writer) {
				for _, ln := range l.Items {
					fmt.Fprintf(w, "%s %s %s\n", ln.Time.Format("15:04:05.000"), ln.Stream, ln.Line)
				}
			})
		}}
	return []*cobra.Command{reboot, runs, log}
}
