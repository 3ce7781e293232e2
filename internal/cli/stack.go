package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/purserhq/purser/client"
)

// newStacksCmd is `purser stacks`: each cluster's desired state, as a
// stackfile, in numbered revisions.
func newStacksCmd(cli *env) *cobra.Command {
	cmd := &cobra.Command{Use: "stacks", Aliases: []string{"stack"},
		Short: "Clusters' desired state: stackfiles in numbered revisions, plans, diffs and rollbacks",
		Long: "A cluster's stack is the desired state of its services, written as a stackfile (the format of the\n" +
			"desired-state seed; its JSON Schema is served at /api/v1/schemas/stackfile.json). Every change is a\n" +
			"new numbered revision, which Purser deploys: it plans against what the cluster runs and rolls the\n" +
			"services out one by one (--wait follows along). A revision that fails is rolled back to the last\n" +
			"applied one, and blocked. Kubernetes, ECS and sim clusters are deployed to."}

	get := &cobra.Command{Use: "get CLUSTER", Short: "Print the cluster's current stackfile (YAML)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			b, err := c.StackConfig(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			_, err = cli.stdout.Write(b)
			return err
		}}

	var file, message, ifMatch string
	var applyFlags rolloutFlags
	apply := &cobra.Command{Use: "apply CLUSTER -f FILE", Short: "Make a stackfile the cluster's next revision (devops, admins)",
		Example: "  purser stacks apply staging -f stack.yaml --message 'add the email worker'\n  purser stacks get staging > s.yaml && $EDITOR s.yaml && purser stacks apply staging -f s.yaml --if-match 3",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			b, err := readFileOrStdin(cli, file)
			if err != nil {
				return err
			}
			r, err := c.ApplyStack(cmd.Context(), args[0], b, client.ApplyOptions{Message: message, IfMatch: ifMatch, Hold: applyFlags.noDeploy})
			if err != nil {
				return err
			}
			return showRevision(cmd, cli, c, r, revisionHeadline(r, applyFlags.noDeploy), &applyFlags)
		}}
	applyFlags.add(apply, true)
	apply.Flags().StringVarP(&file, "file", "f", "", "the stackfile, YAML or JSON (- for standard input)")
	apply.Flags().StringVar(&message, "message", "", "why, kept with the revision")
	apply.Flags().StringVar(&ifMatch, "if-match", "", "the revision you read: refused if another landed since")
	_ = apply.MarkFlagRequired("file")

	var planFile string
	plan := &cobra.Command{Use: "plan CLUSTER [-f FILE]", Short: "Show what applying a stackfile (default: the current revision) would change",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			var b []byte
			if planFile != "" {
				if b, err = readFileOrStdin(cli, planFile); err != nil {
					return err
				}
			}
			p, err := c.PlanStack(cmd.Context(), args[0], b)
			if err != nil {
				return err
			}
			return cli.render(p, func(w io.Writer) { planTable(w, p) })
		}}
	plan.Flags().StringVarP(&planFile, "file", "f", "", "a stackfile to plan, YAML or JSON (- for standard input)")

	var from, to int
	diff := &cobra.Command{Use: "diff CLUSTER [--from N] [--to M]", Short: "Show what changed between two revisions (default: the current one and the one before)",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			d, err := c.DiffStack(cmd.Context(), args[0], from, to)
			if err != nil {
				return err
			}
			return cli.render(d, func(io.Writer) {
				if d.Unified == "" {
					fmt.Fprintf(cli.stdout, "Revisions %d and %d are the same.\n", d.From, d.To)
					return
				}
				fmt.Fprint(cli.stdout, d.Unified)
			})
		}}
	diff.Flags().IntVar(&from, "from", 0, "the older revision")
	diff.Flags().IntVar(&to, "to", 0, "the newer revision")

	var lo client.ListOptions
	history := &cobra.Command{Use: "history CLUSTER", Short: "List the cluster's revisions, newest first", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			l, err := c.StackRevisions(cmd.Context(), args[0], lo)
			if err != nil {
				return err
			}
			return cli.render(l, func(w io.Writer) {
				revisionTable(w, l.Items)
				pageFooter(w, l.Meta, len(l.Items))
			})
		}}
	listFlags(history, &lo, `{"status":"blocked"}`, "-number")

	var rollbackFlags rolloutFlags
	rollback := &cobra.Command{Use: "rollback CLUSTER REVISION", Short: "Make a new revision equal to an earlier one; the one it replaces is blocked (devops, admins)",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := revisionArg(args[1])
			if err != nil {
				return err
			}
			c, err := cli.client()
			if err != nil {
				return err
			}
			r, err := c.RollbackStack(cmd.Context(), args[0], n)
			if err != nil {
				return err
			}
			return showRevision(cmd, cli, c, r, fmt.Sprintf("Revision %d of %s restores revision %d.", r.Number, r.Cluster, r.RollbackOf), &rollbackFlags)
		}}
	rollbackFlags.add(rollback, false)
	unblock := &cobra.Command{Use: "unblock CLUSTER REVISION", Short: "Let a revision a rollback blocked be rolled back to again (devops, admins)",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := revisionArg(args[1])
			if err != nil {
				return err
			}
			c, err := cli.client()
			if err != nil {
				return err
			}
			r, err := c.UnblockRevision(cmd.Context(), args[0], n)
			if err != nil {
				return err
			}
			return cli.render(r, func(w io.Writer) {
				fmt.Fprintf(cli.stdout, "Revision %d of %s is unblocked.\n\n", r.Number, r.Cluster)
				revisionTable(w, []client.StackRevision{*r})
			})
		}}
	services := &cobra.Command{Use: "services CLUSTER", Short: "List the cluster's services: desired and actual image, tag and count, and state",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			l, err := c.StackServices(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return cli.render(l, func(w io.Writer) {
				row(w, "SERVICE", "STATE", "DESIRED TAG", "ACTUAL TAG", "COUNT (RUNNING/DESIRED)", "IMAGE")
				for _, sv := range l.Items {
					state := sv.State
					if len(sv.WaitingFor) > 0 {
						state += " (waiting for " + strings.Join(sv.WaitingFor, ", ") + ")"
					}
					row(w, sv.Name, state, dash(sv.DesiredTag), dash(sv.ActualTag), fmt.Sprintf("%d/%d", sv.RunningCount, sv.DesiredCount),
						dash(firstNonEmpty(sv.DesiredImage, sv.ActualImage)))
				}
			})
		}}
	// change makes a new revision with one service changed, and says so.
	var changeFlags rolloutFlags
	change := func(cmd *cobra.Command, cluster string, do func(c *client.Client) (*client.StackRevision, error)) error {
		c, err := cli.client()
		if err != nil {
			return err
		}
		r, err := do(c)
		if err != nil {
			return err
		}
		return showRevision(cmd, cli, c, r, fmt.Sprintf("Revision %d of %s: %s.", r.Number, cluster, r.Message), &changeFlags)
	}
	deployOpt := func() *bool {
		if changeFlags.noDeploy {
			f := false
			return &f
		}
		return nil
	}
	setImage := &cobra.Command{Use: "set-image CLUSTER SERVICE TAG", Short: "Change a service's image tag: a new revision (devops, admins, the cluster's deployers)",
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			return change(cmd, args[0], func(c *client.Client) (*client.StackRevision, error) {
				return c.UpdateStackService(cmd.Context(), args[0], args[1], client.StackServiceUpdate{ImageTag: &args[2], Deploy: deployOpt()})
			})
		}}
	scale := &cobra.Command{Use: "scale CLUSTER SERVICE COUNT", Short: "Change a service's desired count (0 is allowed): a new revision (devops, admins, the cluster's deployers)",
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.Atoi(args[2])
			if err != nil || n < 0 {
				return UsageError{fmt.Errorf("COUNT must be a whole number, 0 or more, not %q", args[2])}
			}
			return change(cmd, args[0], func(c *client.Client) (*client.StackRevision, error) {
				return c.UpdateStackService(cmd.Context(), args[0], args[1], client.StackServiceUpdate{DesiredCount: &n, Deploy: deployOpt()})
			})
		}}
	rm := &cobra.Command{Use: "rm CLUSTER SERVICE", Short: "Remove a service from the stack: a new revision (refused while another depends on it)",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return change(cmd, args[0], func(c *client.Client) (*client.StackRevision, error) {
				return c.RemoveStackService(cmd.Context(), args[0], args[1])
			})
		}}
	changeFlags.add(setImage, true)
	changeFlags.add(scale, true)
	changeFlags.add(rm, false)
	var deployFlags rolloutFlags
	deploy := &cobra.Command{Use: "deploy CLUSTER", Short: "Apply the current revision again: start a held one, correct drift, retry a failed one (devops, admins)",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			r, err := c.DeployStack(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return showRevision(cmd, cli, c, r, fmt.Sprintf("Deploying revision %d of %s.", r.Number, r.Cluster), &deployFlags)
		}}
	deployFlags.add(deploy, false)
	cmd.AddCommand(get, apply, plan, diff, history, rollback, unblock, services, setImage, scale, rm, deploy, newStackTagsCmd(cli), newStackDriftCmd(cli))
	return cmd
}

// revisionArg reads a REVISION argument.
func revisionArg(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, UsageError{fmt.Errorf("REVISION must be a revision number (1, 2, ...), not %q", s)}
	}
	return n, nil
}

// revisionHeadline says what became of a revision just made.
func revisionHeadline(r *client.StackRevision, held bool) string {
	if held {
		return fmt.Sprintf("Revision %d of %s is pending: deploy it with `purser stacks deploy %s`.", r.Number, r.Cluster, r.Cluster)
	}
	return fmt.Sprintf("Revision %d of %s is %s: Purser deploys it (follow with `purser stacks history %s`, or --wait).", r.Number, r.Cluster, r.Status, r.Cluster)
}

func revisionTable(w io.Writer, rs []client.StackRevision) {
	row(w, "REVISION", "STATUS", "AUTHOR", "CREATED", "MESSAGE", "NOTE")
	for _, r := range rs {
		var note []string
		if r.RollbackOf > 0 {
			note = append(note, fmt.Sprintf("restores %d", r.RollbackOf))
		}
		if r.BlockedBy > 0 {
			note = append(note, fmt.Sprintf("blocked by %d", r.BlockedBy))
		}
		if r.Reason != "" {
			note = append(note, r.Reason)
		}
		row(w, strconv.Itoa(r.Number), r.Status, r.Author, when(r.Created), dash(r.Message), dash(strings.Join(note, "; ")))
	}
}

func planTable(w io.Writer, p *client.StackPlan) {
	row(w, "SERVICE", "ACTION", "CHANGES", "WHY")
	for _, s := range p.Services {
		var ch []string
		for _, c := range s.Changes {
			ch = append(ch, fmt.Sprintf("%s: %s -> %s", c.Field, dash(c.Old), dash(c.New)))
		}
		row(w, s.Service, string(s.Action), dash(strings.Join(ch, "; ")), dash(s.Reason))
	}
	if len(p.Notes) > 0 {
		row(w)
		row(w, "IGNORED HERE", "FIELD", "WHY")
		for _, n := range p.Notes {
			row(w, firstNonEmpty(n.Service, "(stack)"), n.Field, n.Reason)
		}
	}
}
