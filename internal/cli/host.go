package cli

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/client"
)

func hostTable(w io.Writer, hs []client.Host) {
	row(w, "NAME", "STATE", "POOL", "CORES", "MEMORY", "HEARTBEAT", "LABELS", "REASON")
	for _, h := range hs {
		pool := h.Pool
		if h.Spare {
			pool += " (spare)"
		}
		row(w, h.Name, h.State, dash(pool), strconv.Itoa(h.Cores), purser.FormatBytes(h.Memory), heartbeatAge(h.LastHeartbeat), dash(labelString(h.Labels)), dash(h.Reason))
	}
}

func labelString(m map[string]string) string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// parseLabels reads k=v pairs (k= removes a label).
func parseLabels(pairs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, UsageError{fmt.Errorf("label %q: write key=value (key= removes it)", p)}
		}
		out[k] = v
	}
	return out, nil
}

func newHostsCmd(cli *env) *cobra.Command {
	cmd := &cobra.Command{Use: "hosts", Aliases: []string{"host"}, Short: "The inventory of in-house hosts (devops, admins)"}
	var lo client.ListOptions
	list := &cobra.Command{Use: "list", Short: "List hosts", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			l, err := c.ListHosts(cmd.Context(), lo)
			if err != nil {
				return err
			}
			return cli.render(l, func(w io.Writer) { hostTable(w, l.Items); pageFooter(w, l.Meta, len(l.Items)) })
		}}
	listFlags(list, &lo, `{"state":"READY"}`, "name")
	one := func(use, short string, call func(c *client.Client, cmd *cobra.Command, name string) (*client.Host, error)) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := cli.client()
				if err != nil {
					return err
				}
				h, err := call(c, cmd, args[0])
				if err != nil {
					return err
				}
				return cli.render(h, func(w io.Writer) { hostTable(w, []client.Host{*h}) })
			}}
	}
	get := one("get NAME", "Show a host", func(c *client.Client, cmd *cobra.Command, name string) (*client.Host, error) {
		return c.GetHost(cmd.Context(), name)
	})
	label := one("label NAME KEY=VALUE...", "Set labels (KEY= removes one)", func(c *client.Client, cmd *cobra.Command, name string) (*client.Host, error) {
		labels, err := parseLabels(cmd.Flags().Args()[1:])
		if err != nil {
			return nil, err
		}
		return c.LabelHost(cmd.Context(), name, labels)
	})
	var off bool
	maint := one("maintenance NAME", "Put a free host under maintenance (--off: back in service)", func(c *client.Client, cmd *cobra.Command, name string) (*client.Host, error) {
		return c.SetMaintenance(cmd.Context(), name, !off)
	})
	maint.Flags().BoolVar(&off, "off", false, "end the maintenance")
	retire := one("retire NAME", "Retire a free host for good: its agent's credential stops working", func(c *client.Client, cmd *cobra.Command, name string) (*client.Host, error) {
		return c.RetireHost(cmd.Context(), name)
	})
	cmd.AddCommand(list, get, label, maint, retire)
	cmd.AddCommand(newHostHookCmds(cli)...)
	return cmd
}

func newJoinTokensCmd(cli *env) *cobra.Command {
	cmd := &cobra.Command{Use: "join-tokens", Aliases: []string{"join-token"}, Short: "Tokens agents register hosts with (devops, admins)"}
	table := func(w io.Writer, ts []client.JoinToken) {
		row(w, "ID", "HINT", "REUSABLE", "USES", "EXPIRES", "REVOKED", "DESCRIPTION")
		for _, t := range ts {
			row(w, t.ID, t.Hint, yesNo(t.Reusable), strconv.Itoa(t.Uses), when(t.ExpiresAt), since(t.RevokedAt), dash(t.Description))
		}
	}
	var in client.JoinTokenCreate
	create := &cobra.Command{Use: "create", Short: "Create a join token (its secret is shown once)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			t, err := c.CreateJoinToken(cmd.Context(), in)
			if err != nil {
				return err
			}
			return cli.render(t, func(w io.Writer) {
				table(w, []client.JoinToken{t.JoinToken})
				fmt.Fprintf(w, "\nJoin token (shown once): %s\nOn each host: purser agent --server URL --join-token %s\n", t.Token, t.Token)
			})
		}}
	create.Flags().StringVar(&in.Description, "description", "", "what it is for")
	create.Flags().BoolVar(&in.Reusable, "reusable", false, "register any number of hosts until it expires (default: one host)")
	create.Flags().IntVar(&in.TTLHours, "ttl-hours", 0, "hours until it expires (default 24, at most 720)")
	var lo client.ListOptions
	list := &cobra.Command{Use: "list", Short: "List join tokens", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			l, err := c.ListJoinTokens(cmd.Context(), lo)
			if err != nil {
				return err
			}
			return cli.render(l, func(w io.Writer) { table(w, l.Items); pageFooter(w, l.Meta, len(l.Items)) })
		}}
	listFlags(list, &lo, `{"reusable":true}`, "expires_at")
	revoke := &cobra.Command{Use: "revoke ID", Short: "Revoke a join token", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			if err := c.RevokeJoinToken(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cli.stdout, "Join token %s revoked.\n", args[0])
			return nil
		}}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

// heartbeatAge is since to the second under a minute: hosts turn SUSPECT
// after 50 s of silence, so "just now" would hide what matters.
func heartbeatAge(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	if d := time.Since(*t); d >= 0 && d < time.Minute {
		return strconv.Itoa(int(d.Seconds())) + "s ago"
	}
	return since(t)
}
