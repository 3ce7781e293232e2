package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/purserhq/purser/client"
)

var requestStatuses = []string{"REQUESTED", "REVOKED", "APPROVED", "REJECTED", "INITIATED", "DEPLOYED", "FAILED", "EXPIRED", "PURGE_INITIATED", "PURGED", "PURGE_FAILED"}

// requestWhere adds --status and --mine to a --where filter.
func requestWhere(where string, statuses []string, me string) (string, error) {
	m := map[string]any{}
	if where != "" {
		if err := json.Unmarshal([]byte(where), &m); err != nil {
			return "", UsageError{fmt.Errorf("--where must be a JSON object: %v", err)}
		}
	}
	for i, s := range statuses {
		statuses[i] = strings.ToUpper(strings.TrimSpace(s))
		if !contains(requestStatuses, statuses[i]) {
			return "", UsageError{fmt.Errorf("--status %q: must be one of %s", s, strings.Join(requestStatuses, ", "))}
		}
	}
	switch len(statuses) {
	case 0:
	case 1:
		m["status"] = statuses[0]
	default:
		m["status"] = map[string]any{"$in": statuses}
	}
	if me != "" {
		m["requested_by"] = me
	}
	b, err := json.Marshal(m)
	return string(b), err
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// requestTable prints requests; -o wide adds what tells them apart.
func (cli *env) requestTable(w io.Writer, rs []client.Request) {
	// Costs are in the currency units templates give, per hour; the
	// estimate runs until the request expires.
	head := []string{"ID", "TEMPLATE", "STATUS", "REQUESTED BY", "EXPIRES", "CORES", "MEM GiB", "COST/H", "EST. COST TO EXPIRY"}
	if cli.wide() {
		head = append(head, "CREATED", "REVISION", "EXTENDED", "PARAMETERS", "DESCRIPTION")
	} else {
		head = append(head, "ABOUT")
	}
	row(w, head...)
	for _, r := range rs {
		cols := []string{r.ID, nameOr(r.TemplateName, r.ResourceTemplate), r.Status, nameOr(r.RequestedByName, r.RequestedBy), when(r.ExpiresBy),
			num(r.Footprint.Cores), num(r.Footprint.Memory), fmt.Sprintf("%.2f/h", r.Footprint.CostPerHour), fmt.Sprintf("%.2f", r.EstimatedCost)}
		if cli.wide() {
			cols = append(cols, when(r.Created), strconv.Itoa(r.TemplateRevision),
				yesNo(r.Extended), dash(mapString(r.ResourceParameters)), dash(r.Description))
		} else {
			cols = append(cols, about(r))
		}
		row(w, cols...)
	}
}

// about tells requests apart in a table: the description, else the
// parameters, cut to 40 characters.
func about(r client.Request) string {
	s := strings.Join(strings.Fields(r.Description), " ")
	if s == "" {
		s = mapString(r.ResourceParameters)
	}
	if rs := []rune(s); len(rs) > 40 {
		s = string(rs[:39]) + "…"
	}
	return dash(s)
}

// parseParams turns k=v flags into parameters: numbers and booleans as
// such, everything else a string.
func parseParams(kvs []string) (map[string]any, error) {
	out := map[string]any{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, UsageError{fmt.Errorf("--param %q: want name=value", kv)}
		}
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			out[k] = n
		} else if b, err := strconv.ParseBool(v); err == nil {
			out[k] = b
		} else {
			out[k] = v
		}
	}
	return out, nil
}

func newRequestCmd(cli *env) *cobra.Command {
	cmd := &cobra.Command{Use: "requests", Aliases: []string{"request"}, Short: "Provision requests: ask for environments, review them"}
	var in client.RequestCreate
	var params []string
	var ttl time.Duration
	var wait bool
	var timeout time.Duration
	create := &cobra.Command{Use: "create --template T [--param k=v ...]", Short: "Ask for an environment", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			if in.ResourceParameters, err = parseParams(params); err != nil {
				return err
			}
			in.TTLHours = ttl.Hours()
			if ttl < 0 || (ttl > 0 && ttl < time.Hour) {
				return UsageError{fmt.Errorf("--ttl %s: give at least 1h, e.g. --ttl 8h or --ttl 72h", ttl)}
			}
			if ttl > 0 {
				if t, err := c.GetTemplate(cmd.Context(), in.ResourceTemplate); err == nil && t.TTLMaxHours > 0 && ttl.Hours() > t.TTLMaxHours {
					max := time.Duration(t.TTLMaxHours * float64(time.Hour))
					return invalid{fmt.Errorf("--ttl %s: template %s allows at most %s (%sh); ask for less, or extend later with purser requests extend",
						humanDuration(ttl), in.ResourceTemplate, humanDuration(max), num(t.TTLMaxHours))}
				}
			}
			ff := fieldFlags{"ttl_hours": "--ttl", "expires_by": "--expires-by", "resource_template": "--template",
				"request_type": "--type", "description": "--description"}
			if ttl > 0 {
				ff["expires_by"] = "--ttl"
			}
			r, err := c.CreateRequest(cmd.Context(), in)
			if err != nil {
				return ff.explain(err)
			}
			if !wait {
				return cli.render(r, func(w io.Writer) { cli.requestTable(w, []client.Request{*r}) })
			}
			fmt.Fprintf(cli.stderr, "Request %s submitted; waiting for it to be DEPLOYED (Ctrl-C stops waiting, not the request).\n", r.ID)
			return waitDeployed(cmd, cli, c, r.ID, timeout)
		}}
	f := create.Flags()
	f.StringVar(&in.ResourceTemplate, "template", "", "the template's name or id")
	f.StringArrayVar(&params, "param", nil, "a parameter, name=value (repeat)")
	f.DurationVar(&ttl, "ttl", 0, "how long the environment lives (default: the template's)")
	f.StringVar(&in.ExpiresBy, "expires-by", "", "when it expires (RFC 3339), instead of --ttl")
	f.StringVar(&in.Description, "description", "", "what it is for")
	f.StringVar(&in.RequestType, "type", "", "TEMPORARY, the default (PERMANENT is refused: every environment expires; ask for an extension)")
	f.BoolVar(&wait, "wait", false, "show progress (review, attempts) until DEPLOYED or FAILED, then how to get access; rides out server restarts")
	f.DurationVar(&timeout, "timeout", 30*time.Minute, "with --wait: how long to wait (exit code 8 when it runs out; the request goes on)")
	_ = create.MarkFlagRequired("template")
	_ = create.RegisterFlagCompletionFunc("template", cli.completeFlag(templateIDs))

	var lo client.ListOptions
	var statuses []string
	var mine bool
	list := &cobra.Command{Use: "list", Short: "List provision requests (--status, --mine: shortcuts for --where)", Args: cobra.NoArgs,
		Example: "  purser requests list --status REQUESTED\n  purser requests list --mine --status DEPLOYED,FAILED",
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			o := lo
			if len(statuses) > 0 || mine {
				me := ""
				if mine {
					u, err := c.Me(cmd.Context())
					if err != nil {
						return err
					}
					me = u.ID
				}
				if o.Where, err = requestWhere(o.Where, statuses, me); err != nil {
					return err
				}
			}
			l, err := c.ListRequests(cmd.Context(), o)
			if err != nil {
				return err
			}
			return cli.render(l, func(w io.Writer) { cli.requestTable(w, l.Items); pageFooter(w, l.Meta, len(l.Items)) })
		}}
	listFlags(list, &lo, `{"status":{"$in":["REQUESTED","DEPLOYED"]}}`, "expires_by")
	list.Flags().StringSliceVar(&statuses, "status", nil, "only requests in these statuses (comma-separated), e.g. REQUESTED or DEPLOYED,FAILED")
	list.Flags().BoolVar(&mine, "mine", false, "only the requests you made")
	_ = list.RegisterFlagCompletionFunc("status", cobra.FixedCompletions(requestStatuses, cobra.ShellCompDirectiveNoFileComp))

	var outputs bool
	get := &cobra.Command{Use: "get ID", Short: "Show a request (--outputs: its endpoint and credentials)", Args: cobra.ExactArgs(1), ValidArgsFunction: cli.completeFrom(requestIDs),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			if outputs {
				out, err := c.RequestOutputs(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return cli.render(out, func(w io.Writer) { outputsTable(w, args[0], out) })
			}
			r, err := c.GetRequest(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return cli.view(r, func(w io.Writer) { requestView(w, r) })
		}}
	get.Flags().BoolVar(&outputs, "outputs", false, "show the environment's outputs (the requester and admins)")

	history := &cobra.Command{Use: "history ID", Short: "Show a request's history", Args: cobra.ExactArgs(1), ValidArgsFunction: cli.completeFrom(requestIDs),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			l, err := c.RequestHistory(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return cli.render(l, func(w io.Writer) { eventTable(w, l.Items) })
		}}

	var follow bool
	logs := &cobra.Command{Use: "logs ID [-f]", Short: "Show a request's job logs (-f: follow them live)", Args: cobra.ExactArgs(1), ValidArgsFunction: cli.completeFrom(requestIDs),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			print := func(l client.LogLine) {
				fmt.Fprintf(cli.stdout, "%s %-6s %s\n", l.Time.Local().Format("15:04:05.000"), l.Stream, l.Line)
			}
			if !follow {
				l, err := c.RequestLogs(cmd.Context(), args[0], 0)
				if err != nil {
					return err
				}
				if cli.output != "table" {
					return cli.render(l, nil)
				}
				for _, ln := range l.Items {
					print(ln)
				}
				return nil
			}
			status, err := c.FollowLogs(cmd.Context(), args[0], 0, print)
			if err != nil {
				return err
			}
			fmt.Fprintf(cli.stderr, "[no job running; request is %s]\n", status)
			return nil
		}}
	logs.Flags().BoolVarP(&follow, "follow", "f", false, "stream new lines until no job runs")
	cmd.AddCommand(create, list, get, history, logs, newKubeconfigCmd(cli))
	for _, a := range []struct{ name, short string }{
		{"approve", "Approve a request (devops, admins)"}, {"reject", "Reject a request (devops, admins)"},
		{"revoke", "Withdraw your request"}, {"retry", "Retry a failed provision or purge"}, {"purge", "Destroy an environment now"},
	} {
		var comment string
		var wait, yes bool
		var timeout time.Duration
		c := &cobra.Command{Use: a.name + " ID", Short: a.short, Args: cobra.ExactArgs(1), ValidArgsFunction: cli.completeFrom(requestIDs),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := cli.client()
				if err != nil {
					return err
				}
				if a.name == "purge" && !yes {
					if err := cli.confirm(fmt.Sprintf("Destroy the environment of request %s now? Its data is lost.", args[0])); err != nil {
						return err
					}
				}
				r, err := c.ActOnRequest(cmd.Context(), args[0], a.name, comment)
				if err != nil {
					return err
				}
				if !wait {
					return cli.render(r, func(w io.Writer) { cli.requestTable(w, []client.Request{*r}) })
				}
				if a.name == "purge" {
					fmt.Fprintf(cli.stderr, "Request %s is %s; waiting for it to be PURGED (Ctrl-C stops waiting, not the purge).\n", r.ID, r.Status)
					w := newWaiter(cli, c, r.ID, timeout)
					r, err := w.until(cmd.Context(), "PURGED", "PURGE_FAILED")
					if err != nil {
						return err
					}
					if r.Status != "PURGED" {
						return ended(r)
					}
					fmt.Fprintf(cli.stdout, "Environment %s is PURGED.\n", r.ID)
					return nil
				}
				fmt.Fprintf(cli.stderr, "Request %s is %s; waiting for it to be DEPLOYED (Ctrl-C stops waiting, not the request).\n", r.ID, r.Status)
				return waitDeployed(cmd, cli, c, r.ID, timeout)
			}}
		if a.name == "approve" || a.name == "reject" {
			c.Flags().StringVar(&comment, "comment", "", "a note for the requester")
		}
		if a.name == "purge" {
			c.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (needed without a terminal)")
		}
		if a.name == "approve" || a.name == "retry" || a.name == "purge" {
			c.Flags().BoolVar(&wait, "wait", false, "then show progress until it ends (DEPLOYED, or PURGED for purge)")
			c.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "with --wait: how long to wait (exit code 8 when it runs out; the request goes on)")
		}
		cmd.AddCommand(c)
	}
	var hours int
	var reason string
	var extWait bool
	var extTimeout time.Duration
	extend := &cobra.Command{Use: "extend ID --hours N --reason TEXT", Short: "Ask to extend an environment (granted once)", Args: cobra.ExactArgs(1), ValidArgsFunction: cli.completeFrom(requestIDs),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			e, err := c.CreateExtension(cmd.Context(), args[0], hours, reason)
			if err != nil {
				return err
			}
			fmt.Fprintf(cli.stdout, "Extension request %s (%d hours) is waiting for review.\n", e.ID, e.ExtendBy)
			if !extWait {
				return nil
			}
			fmt.Fprintln(cli.stderr, "  waiting for review by DevOps (or an admin); Ctrl-C stops waiting, not the extension request")
			e, err = waitExtension(cmd.Context(), c, e.ID, extTimeout)
			if err != nil {
				return err
			}
			if e.Status != "APPROVED" {
				msg := fmt.Sprintf("extension request %s ended %s", e.ID, e.Status)
				if e.ReviewComment != "" {
					msg += " (" + e.ReviewComment + ")"
				}
				return errors.New(msg)
			}
			r, err := c.GetRequest(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cli.stdout, "Extension request %s is APPROVED: %s now expires %s.\n", e.ID, r.ID, when(r.ExpiresBy))
			return nil
		}}
	extend.Flags().BoolVar(&extWait, "wait", false, "then wait until the extension is reviewed")
	extend.Flags().DurationVar(&extTimeout, "timeout", 30*time.Minute, "with --wait: how long to wait (exit code 8 when it runs out; the extension request goes on)")
	extend.Flags().IntVar(&hours, "hours", 0, "hours to add")
	extend.Flags().StringVar(&reason, "reason", "", "why")
	_ = extend.MarkFlagRequired("hours")
	_ = extend.MarkFlagRequired("reason")
	cmd.AddCommand(extend, newExtensionsCmd(cli))
	return cmd
}

func newExtensionsCmd(cli *env) *cobra.Command {
	cmd := &cobra.Command{Use: "extensions", Aliases: []string{"extension"}, Short: "Extension requests: list and review"}
	var lo client.ListOptions
	list := &cobra.Command{Use: "list", Short: "List extension requests", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			l, err := c.ListExtensions(cmd.Context(), lo)
			if err != nil {
				return err
			}
			return cli.render(l, func(w io.Writer) {
				row(w, "ID", "REQUEST", "HOURS", "STATUS", "REASON")
				for _, e := range l.Items {
					row(w, e.ID, e.ProvisionRequest, strconv.Itoa(e.ExtendBy), e.Status, e.Reason)
				}
			})
		}}
	listFlags(list, &lo, `{"status":"REQUESTED"}`, "status")
	cmd.AddCommand(list)
	for _, approve := range []bool{true, false} {
		name := map[bool]string{true: "approve", false: "reject"}[approve]
		var comment string
		c := &cobra.Command{Use: name + " ID", Short: name + " an extension request (devops, admins)", Args: cobra.ExactArgs(1), ValidArgsFunction: cli.completeFrom(extensionIDs),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := cli.client()
				if err != nil {
					return err
				}
				e, err := c.ReviewExtension(cmd.Context(), args[0], approve, comment)
				if err != nil {
					return err
				}
				fmt.Fprintf(cli.stdout, "Extension request %s is %s.\n", e.ID, e.Status)
				return nil
			}}
		c.Flags().StringVar(&comment, "comment", "", "a note for the requester")
		cmd.AddCommand(c)
	}
	return cmd
}
