package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/purserhq/purser/client"
)

// rolloutFlags are the flags of the stacks verbs that make a revision:
// --wait follows its rollout, --no-deploy keeps it pending.
type rolloutFlags struct {
	wait     bool
	timeout  time.Duration
	noDeploy bool
}

func (f *rolloutFlags) add(cmd *cobra.Command, hold bool) {
	cmd.Flags().BoolVar(&f.wait, "wait", false, "follow the rollout, service by service, until the revision is applied or fails")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 15*time.Minute, "how long --wait waits")
	if hold {
		cmd.Flags().BoolVar(&f.noDeploy, "no-deploy", false, "keep the revision pending, not deployed, until `purser stacks deploy`")
	}
}

// RolloutFailed is a rollout --wait saw fail (and perhaps rolled back).
type RolloutFailed struct{ msg string }

func (e RolloutFailed) Error() string { return e.msg }

// rolloutPoll is how often --wait asks how a rollout stands.
const rolloutPoll = 300 * time.Millisecond

// waitRollout follows revision n of cluster until it is applied, fails or
// is replaced, printing each service's progress as it changes (to stderr
// when the output is JSON or YAML, so that stdout stays parseable), and
// rides out a server that restarts.
func waitRollout(parent context.Context, cli *env, c *client.Client, cluster string, n int, timeout time.Duration) (*client.StackRevision, error) {
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	out := cli.stdout
	if !cli.tableOutput() {
		out = cli.stderr
	}
	start := time.Now()
	seen := map[string]string{}
	status := ""
	for {
		r, err := c.StackRevision(ctx, cluster, n)
		if err == nil && r.Status != status {
			status = r.Status
			fmt.Fprintf(out, "revision %d: %s\n", n, status)
		}
		if err == nil {
			if l, serr := c.StackServices(ctx, cluster); serr == nil && l.Items != nil && len(l.Items) > 0 && l.Items[0].Revision == n {
				listed := map[string]bool{}
				for _, sv := range l.Items {
					listed[sv.Name] = true
					line := fmt.Sprintf("%-11s %d/%d running", sv.State, sv.RunningCount, sv.DesiredCount)
					if sv.DesiredTag != "" {
						line += ", tag " + sv.DesiredTag
					} else {
						line += " (to be deleted)"
					}
					if len(sv.WaitingFor) > 0 {
						line += ", waiting for " + strings.Join(sv.WaitingFor, ", ")
					}
					if seen[sv.Name] != line {
						seen[sv.Name] = line
						fmt.Fprintf(out, "  %-24s %s\n", sv.Name, line)
					}
				}
				for name, line := range seen {
					if !listed[name] && line != "removed" {
						seen[name] = "removed"
						fmt.Fprintf(out, "  %-24s removed from the target\n", name)
					}
				}
			}
			switch r.Status {
			case "applied":
				fmt.Fprintf(out, "Revision %d of %s is applied (%s): every service runs as desired.\n", n, cluster, humanDuration(time.Since(start)))
				return r, nil
			case "failed":
				// The server records the failure, then rolls back in a
				// second step: wait for it when one is coming.
				if !rollbackComing(ctx, c, r) {
					return r, rolloutFailed(ctx, c, r)
				}
			case "rolled_back":
				return r, rolloutFailed(ctx, c, r)
			case "superseded", "blocked":
				return r, RolloutFailed{fmt.Sprintf("revision %d of %s was %s before it was applied: follow the current one (purser stacks history %s)", n, cluster, r.Status, cluster)}
			}
		} else if !transient(err) && ctx.Err() == nil {
			return nil, err
		}
		if !sleep(ctx, rolloutPoll) {
			if parent.Err() != nil {
				return nil, parent.Err()
			}
			return r, WaitGaveUp{After: timeout, Status: status}
		}
	}
}

// rollbackComing reports whether the server is about to roll failed
// revision r back: nothing newer was made and an earlier revision is
// still applied (what an automatic rollback restores).
func rollbackComing(ctx context.Context, c *client.Client, r *client.StackRevision) bool {
	l, err := c.StackRevisions(ctx, r.Cluster, client.ListOptions{MaxResults: 50})
	if err != nil {
		return false
	}
	earlier := false
	for _, o := range l.Items {
		if o.Number > r.Number {
			return false
		}
		if o.Number < r.Number && o.Status == "applied" {
			earlier = true
		}
	}
	return earlier
}

// rolloutFailed says why a revision failed, and which revision rolls it
// back if one does.
func rolloutFailed(ctx context.Context, c *client.Client, r *client.StackRevision) error {
	msg := fmt.Sprintf("revision %d of %s failed", r.Number, r.Cluster)
	if r.Reason != "" {
		msg += ": " + r.Reason
	}
	if l, err := c.StackRevisions(ctx, r.Cluster, client.ListOptions{MaxResults: 5}); err == nil {
		for _, next := range l.Items {
			if next.Number > r.Number && next.RollbackOf > 0 {
				msg += fmt.Sprintf("; revision %d rolls it back to revision %d", next.Number, next.RollbackOf)
				break
			}
		}
	}
	return RolloutFailed{msg}
}

// showRevision prints a revision a verb made, then follows its rollout
// with --wait.
func showRevision(cmd *cobra.Command, cli *env, c *client.Client, r *client.StackRevision, headline string, f *rolloutFlags) error {
	if f.wait && !cli.tableOutput() {
		final, err := waitRollout(cmd.Context(), cli, c, r.Cluster, r.Number, f.timeout)
		if final != nil {
			if rerr := cli.render(final, nil); rerr != nil {
				return rerr
			}
		}
		return err
	}
	if err := cli.render(r, func(w io.Writer) {
		fmt.Fprintf(cli.stdout, "%s\n\n", headline)
		revisionTable(w, []client.StackRevision{*r})
	}); err != nil {
		return err
	}
	if !f.wait {
		return nil
	}
	fmt.Fprintln(cli.stdout)
	_, err := waitRollout(cmd.Context(), cli, c, r.Cluster, r.Number, f.timeout)
	return err
}
