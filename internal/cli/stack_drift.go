package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/purserhq/purser/client"
)

// newStackDriftCmd is `purser stacks drift CLUSTER [--scan]`.
func newStackDriftCmd(cli *env) *cobra.Command {
	var scan bool
	var timeout time.Duration
	cmd := &cobra.Command{Use: "drift CLUSTER [--scan]", Short: "Show whether what the cluster runs differs from its last applied revision",
		Long: "Shows the last drift scan (every 180 s ± 60 s); --scan scans now and waits for the result.", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			var before time.Time
			if prev, err := c.StackDrift(cmd.Context(), args[0]); err == nil {
				before = prev.CheckedAt
			}
			if scan {
				if err := c.ScanStackDrift(cmd.Context(), args[0]); err != nil {
					return err
				}
			}
			d, err := c.StackDrift(cmd.Context(), args[0])
			for deadline := time.Now().Add(timeout); scan && (err == nil || notFound(err)) && (d == nil || !d.CheckedAt.After(before)); {
				if time.Now().After(deadline) {
					return WaitGaveUp{After: timeout, Status: "not scanned yet"}
				}
				if !sleep(cmd.Context(), 200*time.Millisecond) {
					return cmd.Context().Err()
				}
				d, err = c.StackDrift(cmd.Context(), args[0])
			}
			if err != nil {
				return err
			}
			return cli.render(d, func(w io.Writer) {
				if !d.Drifted {
					fmt.Fprintf(cli.stdout, "%s runs revision %d as applied (checked %s, drift mode %s).\n", d.Cluster, d.Revision, when(d.CheckedAt), d.Mode)
					return
				}
				fmt.Fprintf(cli.stdout, "%s differs from revision %d since %s (drift mode %s):\n\n", d.Cluster, d.Revision, since(d.Since), d.Mode)
				row(w, "SERVICE", "ACTION", "DRIFT")
				for _, s := range d.Services {
					var ch []string
					for _, f := range s.Changes {
						ch = append(ch, fmt.Sprintf("%s: %s (applied: %s)", f.Field, dash(f.Old), dash(f.New)))
					}
					row(w, s.Service, string(s.Action), dash(strings.Join(ch, "; ")))
				}
			})
		}}
	cmd.Flags().BoolVar(&scan, "scan", false, "scan now and wait for the result")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Minute, "how long --scan waits")
	return cmd
}

// notFound reports whether err is the server's 404.
func notFound(err error) bool {
	var ce *client.Error
	return errors.As(err, &ce) && ce.Status == 404
}
