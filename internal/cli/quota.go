package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

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
				row(w, "ID", "FOR", "TYPE", "LIMITS", "UNTIL", "ACTIVE")
				for _, q := range l.Items {
					who := fmt.Sprint(q["user"])
					if name, ok := q["username"].(string); ok && name != "" {
						who = name
					}
					if q["role"] != nil {
						who = "role " + fmt.Sprint(q["role"])
					}
					lim, _ := json.Marshal(q["limits"])
					row(w, fmt.Sprint(q["_id"]), who, fmt.Sprint(q["quota_type"]), string(lim), dashAny(q["valid_until"]), fmt.Sprint(q["active"]))
				}
			})
		}}
	listFlags(list, &lo)
	var user, role, typ, until string
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
			for k, v := range map[string]string{"user": user, "role": role, "valid_until": until} {
				if v != "" {
					body[k] = v
				}
			}
			q, err := c.CreateQuota(cmd.Context(), body)
			if err != nil {
				return err
			}
			fmt.Fprintf(cli.stdout, "Quota %v created.\n", q["_id"])
			return nil
		}}
	f := create.Flags()
	f.StringVar(&user, "user", "", "the user's username or _id")
	f.StringVar(&role, "role", "", "a role: the quota applies to each user holding it")
	f.StringVar(&typ, "type", "PERMANENT", "PERMANENT or TEMPORARY (a grant that lapses at --until)")
	f.StringVar(&until, "until", "", "TEMPORARY: when it lapses (RFC 3339)")
	f.Float64Var(&envs, "environments", 0, "environments at once")
	f.Float64Var(&cores, "cores", 0, "cores")
	f.Float64Var(&mem, "memory", 0, "memory, GiB")
	f.Float64Var(&cost, "monthly-cost", 0, "monthly cost")
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
						s := fmt.Sprintf("%g", u.Used[k])
						if p := u.Pending[k]; p > 0 {
							s += fmt.Sprintf(" (+%g pending)", p)
						}
						if l, ok := u.Limits[k]; ok {
							s += fmt.Sprintf(" / %g %s", l, bar(u.Used[k], l))
						}
						return s
					}
					row(w, u.Username, cell("environments"), cell("cores"), cell("memory"), cell("monthly_cost"))
				}
			})
		}}
	usage.Flags().StringVar(&who, "user", "", "one user's username or _id")
	cmd.AddCommand(list, create, usage)
	return cmd
}

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
					row(w, n.Created.Local().Format("2006-01-02 15:04"), n.Event, n.Title, n.Description)
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
	cmd := &cobra.Command{Use: "events", Short: "The audit log", Args: cobra.NoArgs,
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
	listFlags(cmd, &lo)
	return cmd
}
