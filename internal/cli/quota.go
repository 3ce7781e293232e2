package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/purserhq/purser/client"
)

func newQuotasCmd(cli *env) *cobra.Command {
	cmd := &cobra.Command{Use: "quotas", Aliases: []string{"quota"}, Short: "Quotas: limits per user or role, and usage"}
	var lo client.ListOptions
	list := &cobra.Command{Use: "list", Short: "List quotas", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			l, err := c.ListQuotas(cmd.Context(), lo)
			if err != nil {
				return err
			}
			return cli.render(l, func(w io.Writer) {
				row(w, "ID", "FOR", "TYPE", "ENVIRONMENTS", "CORES", "MEMORY GiB", "MONTHLY COST", "UNTIL", "ACTIVE")
				for _, q := range l.Items {
					who := valueString(q["user"])
					if name, ok := q["username"].(string); ok && name != "" {
						who = name
					}
					if q["role"] != nil {
						who = "role " + valueString(q["role"])
					}
					lim, _ := q["limits"].(map[string]any)
					cell := func(k string) string {
						if v, ok := lim[k]; ok && v != nil {
							return valueString(v)
						}
						return "no limit"
					}
					until := "-"
					if s, ok := q["valid_until"].(string); ok {
						if t, err := time.Parse(time.RFC3339, s); err == nil {
							until = when(t)
						}
					}
					active, _ := q["active"].(bool)
					row(w, valueString(q["_id"]), who, valueString(q["quota_type"]), cell("environments"), cell("cores"), cell("memory"),
						cell("monthly_cost"), until, yesNo(active))
				}
				pageFooter(w, l.Meta, len(l.Items))
			})
		}}
	listFlags(list, &lo, `{"quota_type":"TEMPORARY"}`, "valid_until")
	var user, role, typ, from, until string
	var envs, cores, mem, cost float64
	create := &cobra.Command{Use: "create (--user NAME | --role R) [limits]", Short: "Create a quota (devops, admins)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			limits := map[string]float64{}
			for name, v := range map[string]float64{"environments": envs, "cores": cores, "memory": mem, "monthly_cost": cost} {
				if cmd.Flags().Changed(strings.ReplaceAll(name, "_", "-")) {
					limits[name] = v
				}
			}
			body := map[string]any{"limits": limits, "quota_type": typ}
			for k, v := range map[string]string{"user": user, "role": role, "valid_from": from, "valid_until": until} {
				if v != "" {
					body[k] = v
				}
			}
			q, err := c.CreateQuota(cmd.Context(), body)
			if err != nil {
				return quotaFlags.explain(err)
			}
			fmt.Fprintf(cli.stdout, "Quota %v created.\n", q["_id"])
			return nil
		}}
	f := create.Flags()
	f.StringVar(&user, "user", "", "the user's username or _id")
	f.StringVar(&role, "role", "", "a role: the quota applies to each user holding it")
	f.StringVar(&typ, "type", "PERMANENT", "PERMANENT or TEMPORARY (a grant that lapses at --until)")
	f.StringVar(&from, "from", "", "TEMPORARY: when it starts (RFC 3339; default now)")
	f.StringVar(&until, "until", "", "TEMPORARY: when it lapses (RFC 3339)")
	f.Float64Var(&envs, "environments", 0, "environments at once")
	f.Float64Var(&cores, "cores", 0, "cores")
	f.Float64Var(&mem, "memory", 0, "memory, GiB")
	f.Float64Var(&cost, "monthly-cost", 0, "monthly cost")
	var etag string
	update := &cobra.Command{Use: "update ID [limits] [--until T]", Short: "Change a quota's limits or window (devops, admins); limits not given stay", Args: cobra.ExactArgs(1),
		Example: "  purser quotas update QUOTA_ID --cores 16 --monthly-cost 500\n  purser quotas update QUOTA_ID --until 2026-12-31T00:00:00Z",
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			q, err := c.GetQuota(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			limits, _ := q["limits"].(map[string]any)
			if limits == nil {
				limits = map[string]any{}
			}
			changed := false
			for name, v := range map[string]float64{"environments": envs, "cores": cores, "memory": mem, "monthly_cost": cost} {
				if cmd.Flags().Changed(strings.ReplaceAll(name, "_", "-")) {
					limits[name], changed = v, true
				}
			}
			body := map[string]any{"limits": limits}
			for _, k := range []string{"user", "role", "quota_type", "valid_from", "valid_until", "description"} {
				if v, ok := q[k]; ok && v != nil && v != "" {
					body[k] = v
				}
			}
			if cmd.Flags().Changed("until") {
				body["valid_until"], changed = until, true
			}
			if !changed {
				return UsageError{fmt.Errorf("nothing to change: give a limit (--environments, --cores, --memory, --monthly-cost) or --until")}
			}
			if etag == "" {
				etag = valueString(q["_etag"])
			}
			nq, err := c.ReplaceQuota(cmd.Context(), args[0], body, etag)
			if err != nil {
				return quotaFlags.explain(err)
			}
			fmt.Fprintf(cli.stdout, "Quota %v updated.\n", nq["_id"])
			return nil
		}}
	uf := update.Flags()
	uf.StringVar(&until, "until", "", "TEMPORARY: when it lapses (RFC 3339)")
	uf.Float64Var(&envs, "environments", 0, "environments at once")
	uf.Float64Var(&cores, "cores", 0, "cores")
	uf.Float64Var(&mem, "memory", 0, "memory, GiB")
	uf.Float64Var(&cost, "monthly-cost", 0, "monthly cost")
	uf.StringVar(&etag, "if-match", "", "only if the quota's _etag is still this")
	del := &cobra.Command{Use: "delete ID", Short: "Delete a quota (devops, admins)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			if err := c.DeleteQuota(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cli.stdout, "Quota %s deleted.\n", args[0])
			return nil
		}}
	var who string
	usage := &cobra.Command{Use: "usage", Short: "Limits, usage and pending per user", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			us, err := c.QuotaUsage(cmd.Context(), who)
			if err != nil {
				return err
			}
			return cli.render(us, func(w io.Writer) {
				row(w, "USER", "ENVIRONMENTS", "CORES", "MEMORY GiB", "MONTHLY COST")
				for _, u := range us {
					cell := func(k string) string {
						s := num(u.Used[k])
						if p := u.Pending[k]; p > 0 {
							s += " (+" + num(p) + " pending)"
						}
						if l, ok := u.Limits[k]; ok {
							s += " / " + num(l) + " " + bar(u.Used[k], l)
						}
						return s
					}
					row(w, u.Username, cell("environments"), cell("cores"), cell("memory"), cell("monthly_cost"))
				}
			})
		}}
	usage.Flags().StringVar(&who, "user", "", "one user's username or _id")
	cmd.AddCommand(list, create, update, del, usage)
	return cmd
}

// quotaFlags are the quota commands' flags for the API's fields.
var quotaFlags = fieldFlags{"valid_until": "--until", "valid_from": "--from", "quota_type": "--type", "user": "--user", "role": "--role",
	"limits.environments": "--environments", "limits.cores": "--cores", "limits.memory": "--memory",
	"limits.monthly_cost": "--monthly-cost", "monthly_cost": "--monthly-cost"}

// bar draws how full a limit is, in ten cells.
func bar(used, limit float64) string {
	if limit <= 0 {
		return "[##########]"
	}
	n := int(used / limit * 10)
	n = max(0, min(n, 10))
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", 10-n) + "]"
}

func newInboxCmd(cli *env) *cobra.Command {
	var all, markRead bool
	cmd := &cobra.Command{Use: "inbox", Short: "Your notifications (unread unless --all)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			l, err := c.Inbox(cmd.Context(), !all, client.ListOptions{MaxResults: 50})
			if err != nil {
				return err
			}
			if err := cli.render(l, func(w io.Writer) {
				row(w, "WHEN", "EVENT", "TITLE", "MESSAGE")
				for _, n := range l.Items {
					row(w, when(n.Created), n.Event, n.Title, n.Description)
				}
				if len(l.Items) == 0 {
					fmt.Fprintln(w, "(nothing new)")
				}
			}); err != nil {
				return err
			}
			if markRead {
				return c.MarkAllRead(cmd.Context())
			}
			return nil
		}}
	cmd.Flags().BoolVar(&all, "all", false, "read notifications too")
	cmd.Flags().BoolVar(&markRead, "mark-read", false, "then mark them all read")
	return cmd
}

func newEventsCmd(cli *env) *cobra.Command {
	var lo client.ListOptions
	cmd := &cobra.Command{Use: "events", Aliases: []string{"event"}, Short: "The audit log", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			if lo.Sort == "" {
				lo.Sort = "-_created"
			}
			l, err := c.ListEvents(cmd.Context(), lo)
			if err != nil {
				return err
			}
			return cli.render(l, func(w io.Writer) { eventTable(w, l.Items); pageFooter(w, l.Meta, len(l.Items)) })
		}}
	listFlags(cmd, &lo, `{"action":"request.approve"}`, "action")
	return cmd
}
