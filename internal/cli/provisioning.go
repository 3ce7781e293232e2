package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/purserhq/purser/client"
)

func newTemplatesCmd(cli *env) *cobra.Command {
	cmd := &cobra.Command{Use: "templates", Aliases: []string{"template"}, Short: "The catalog of templates"}
	var lo client.ListOptions
	list := &cobra.Command{Use: "list", Short: "List templates", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			l, err := c.ListTemplates(cmd.Context(), lo)
			if err != nil {
				return err
			}
			return cli.render(l, func(w io.Writer) {
				row(w, "ID", "NAME", "DRIVER", "TYPE", "TTL", "APPROVAL", "ACTIVE")
				for _, t := range l.Items {
					drv := t.Driver
					if t.Simulated {
						drv += " (simulated)"
					}
					row(w, t.ID, t.Name, drv, t.ResourceType, fmt.Sprintf("%gh (max %gh)", t.TTLDefaultHours, t.TTLMaxHours),
						fmt.Sprint(t.Approval["mode"]), yesNo(t.IsActive))
				}
				pageFooter(w, l.Meta, len(l.Items))
			})
		}}
	listFlags(list, &lo)
	get := &cobra.Command{Use: "get ID", Short: "Show a template", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			t, err := c.GetTemplate(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if cli.output == "table" {
				cli.output = "yaml"
			}
			return cli.render(t, nil)
		}}
	var file string
	create := &cobra.Command{Use: "create -f FILE", Short: "Add a template from a YAML or JSON file (devops, admins)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			var data []byte
			if file == "-" {
				data, err = io.ReadAll(cli.stdin)
			} else {
				data, err = os.ReadFile(file)
			}
			if err != nil {
				return err
			}
			var body map[string]any
			if err := yaml.Unmarshal(data, &body); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			t, err := c.CreateTemplate(cmd.Context(), body)
			if err != nil {
				return err
			}
			fmt.Fprintf(cli.stdout, "Template %s created (driver %s).\n", t.ID, t.Driver)
			return nil
		}}
	create.Flags().StringVarP(&file, "file", "f", "", "the template document, YAML or JSON (- for standard input)")
	_ = create.MarkFlagRequired("file")
	revisions := &cobra.Command{Use: "revisions ID", Short: "List a template's revisions, oldest first", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			l, err := c.ListTemplateRevisions(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return cli.render(l, func(w io.Writer) {
				row(w, "REVISION", "MADE", "NAME", "DRIVER", "APPROVAL", "ACTIVE")
				for _, t := range l.Items {
					row(w, fmt.Sprint(t.Revision), t.Updated.Local().Format("2006-01-02 15:04"), t.Name, t.Driver,
						fmt.Sprint(t.Approval["mode"]), yesNo(t.IsActive))
				}
			})
		}}
	cmd.AddCommand(list, get, create, revisions)
	return cmd
}

func requestTable(w io.Writer, rs []client.Request) {
	row(w, "ID", "TEMPLATE", "STATUS", "REQUESTED BY", "EXPIRES", "CORES", "MEM GiB", "EST. COST", "ABOUT")
	for _, r := range rs {
		row(w, r.ID, nameOr(r.TemplateName, r.ResourceTemplate), r.Status, nameOr(r.RequestedByName, r.RequestedBy), r.ExpiresBy.Local().Format("2006-01-02 15:04"),
			fmt.Sprintf("%g", r.Footprint.Cores), fmt.Sprintf("%g", r.Footprint.Memory), fmt.Sprintf("%.2f", r.EstimatedCost), about(r))
	}
}

// about tells requests apart in a table: the description, else the
// parameters, cut to 40 characters.
func about(r client.Request) string {
	s := strings.Join(strings.Fields(r.Description), " ")
	if s == "" {
		keys := make([]string, 0, len(r.ResourceParameters))
		for k := range r.ResourceParameters {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			keys[i] = fmt.Sprintf("%s=%v", k, r.ResourceParameters[k])
		}
		s = strings.Join(keys, " ")
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
	cmd := &cobra.Command{Use: "request", Aliases: []string{"requests"}, Short: "Provision requests: ask for environments, review them"}
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
			r, err := c.CreateRequest(cmd.Context(), in)
			if err != nil {
				return err
			}
			if !wait {
				return cli.render(r, func(w io.Writer) { requestTable(w, []client.Request{*r}) })
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
	f.StringVar(&in.RequestType, "type", "", "TEMPORARY (default) or PERMANENT")
	f.BoolVar(&wait, "wait", false, "show progress until DEPLOYED or FAILED, then how to get access")
	f.DurationVar(&timeout, "timeout", 30*time.Minute, "with --wait: how long to wait")
	_ = create.MarkFlagRequired("template")

	var lo client.ListOptions
	list := &cobra.Command{Use: "list", Short: "List provision requests", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			l, err := c.ListRequests(cmd.Context(), lo)
			if err != nil {
				return err
			}
			return cli.render(l, func(w io.Writer) { requestTable(w, l.Items); pageFooter(w, l.Meta, len(l.Items)) })
		}}
	listFlags(list, &lo)

	var outputs bool
	get := &cobra.Command{Use: "get ID", Short: "Show a request (--outputs: its endpoint and credentials)", Args: cobra.ExactArgs(1),
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
				return cli.render(out, func(w io.Writer) { outputsTable(w, out) })
			}
			r, err := c.GetRequest(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return cli.render(r, func(w io.Writer) {
				requestTable(w, []client.Request{*r})
				if r.Quota != nil {
					fmt.Fprintln(w)
					row(w, "QUOTA", "LIMIT", "USED", "PENDING", "ASKED", "FITS")
					for _, q := range r.Quota.Checks {
						lim := "-"
						if q.Limit != nil {
							lim = fmt.Sprintf("%g", *q.Limit)
						}
						row(w, q.Dimension, lim, fmt.Sprintf("%g", q.Used), fmt.Sprintf("%g", q.Pending), fmt.Sprintf("%g", q.Asked), yesNo(q.Fits))
					}
				}
				if r.LastError != "" {
					fmt.Fprintf(w, "\nlast error: %s\n", r.LastError)
				}
			})
		}}
	get.Flags().BoolVar(&outputs, "outputs", false, "show the environment's outputs (the requester and admins)")

	history := &cobra.Command{Use: "history ID", Short: "Show a request's history", Args: cobra.ExactArgs(1),
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
	logs := &cobra.Command{Use: "logs ID [-f]", Short: "Show a request's job logs (-f: follow them live)", Args: cobra.ExactArgs(1),
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
		c := &cobra.Command{Use: a.name + " ID", Short: a.short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := cli.client()
				if err != nil {
					return err
				}
				r, err := c.ActOnRequest(cmd.Context(), args[0], a.name, comment)
				if err != nil {
					return err
				}
				return cli.render(r, func(w io.Writer) { requestTable(w, []client.Request{*r}) })
			}}
		if a.name == "approve" || a.name == "reject" {
			c.Flags().StringVar(&comment, "comment", "", "a note for the requester")
		}
		cmd.AddCommand(c)
	}
	var hours int
	var reason string
	extend := &cobra.Command{Use: "extend ID --hours N --reason TEXT", Short: "Ask to extend an environment (granted once)", Args: cobra.ExactArgs(1),
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
			return nil
		}}
	extend.Flags().IntVar(&hours, "hours", 0, "hours to add")
	extend.Flags().StringVar(&reason, "reason", "", "why")
	_ = extend.MarkFlagRequired("hours")
	_ = extend.MarkFlagRequired("reason")
	cmd.AddCommand(extend, newExtensionsCmd(cli))
	return cmd
}

func newExtensionsCmd(cli *env) *cobra.Command {
	cmd := &cobra.Command{Use: "extensions", Short: "Extension requests: list and review"}
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
	listFlags(list, &lo)
	cmd.AddCommand(list)
	for _, approve := range []bool{true, false} {
		name := map[bool]string{true: "approve", false: "reject"}[approve]
		var comment string
		c := &cobra.Command{Use: name + " ID", Short: name + " an extension request (devops, admins)", Args: cobra.ExactArgs(1),
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

// waitDeployed shows a request's progress until it is DEPLOYED or FAILED,
// then how to get access.
func waitDeployed(cmd *cobra.Command, cli *env, c *client.Client, id string, timeout time.Duration) error {
	ctx, cancel := contextWithTimeout(cmd, timeout)
	defer cancel()
	start := time.Now()
	r, err := c.WaitRequest(ctx, id, func(r *client.Request) {
		fmt.Fprintf(cli.stderr, "  %6.1fs  %s\n", time.Since(start).Seconds(), r.Status)
	}, "DEPLOYED", "FAILED", "REJECTED", "REVOKED", "PURGED", "PURGE_FAILED")
	if err != nil {
		return err
	}
	if r.Status != "DEPLOYED" {
		msg := fmt.Sprintf("request %s ended %s", r.ID, r.Status)
		if r.LastError != "" {
			msg += ": " + r.LastError
		}
		if r.ReviewComment != "" {
			msg += " (" + r.ReviewComment + ")"
		}
		return fmt.Errorf("%s", msg)
	}
	out, err := c.RequestOutputs(ctx, id)
	if err != nil {
		return err
	}
	if cli.output != "table" {
		return cli.render(map[string]any{"request": r, "outputs": out}, nil)
	}
	fmt.Fprintf(cli.stdout, "Environment %s is DEPLOYED until %s.\n\n", r.ID, r.ExpiresBy.Local().Format("2006-01-02 15:04 MST"))
	tw := newTable(cli.stdout)
	outputsTable(tw, out)
	return tw.Flush()
}

func outputsTable(w io.Writer, out map[string]string) {
	keys := make([]string, 0, len(out))
	for k := range out {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	row(w, "OUTPUT", "VALUE")
	for _, k := range keys {
		v := out[k]
		if strings.Contains(v, "\n") {
			b, _ := json.Marshal(v)
			v = string(b)
		}
		row(w, k, v)
	}
}

func eventTable(w io.Writer, events []client.Event) {
	row(w, "WHEN", "ACTOR", "ACTION", "TARGET", "CHANGE")
	for _, e := range events {
		change := ""
		if b, a := e.Before["status"], e.After["status"]; a != nil && b != a {
			change = fmt.Sprintf("%v -> %v", dashAny(b), a)
		}
		actor := nameOr(e.ActorName, e.Actor)
		if e.ActingFor != "" {
			actor += " for " + nameOr(e.ActingName, e.ActingFor)
		}
		row(w, e.Created.Local().Format("2006-01-02 15:04:05"), actor, e.Action, e.TargetType+"/"+nameOr(e.TargetName, e.TargetID), change)
	}
}

// nameOr is a person's or template's name, or its id when the server
// sent no name.
func nameOr(name, id string) string {
	if name != "" {
		return name
	}
	return id
}

func dashAny(v any) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprint(v)
}
