package cli

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/client"
)

func sizeString(s client.PoolSize) string {
	return purser.Resources{Cores: s.Cores, Memory: s.Memory}.String()
}

func poolHostRows(w io.Writer, role string, hs []client.PoolHost) {
	for _, h := range hs {
		row(w, role, h.Name, strconv.Itoa(h.Cores), purser.FormatBytes(h.Memory), h.State)
	}
}

func poolTable(w io.Writer, ps []client.Pool) {
	row(w, "NAME", "STATE", "CLUSTER", "REQUESTED", "MEMBERS", "HOSTS", "SPARES", "STATUS")
	for _, p := range ps {
		spares := 0
		for _, h := range p.Hosts {
			if h.Spare {
				spares++
			}
		}
		status := p.Status
		if status == "" {
			status = p.ScaleStatus
		}
		row(w, p.Name, p.State, dash(p.Cluster), sizeString(client.PoolSize{Cores: p.Cores, Memory: p.Memory}), sizeString(p.Total),
			strconv.Itoa(len(p.Hosts)-spares), fmt.Sprintf("%d/%d", spares, p.Spares), dash(status))
	}
}

// poolView prints one pool, its why-not statuses and its hosts with the
// reason each is in its state.
func poolView(w io.Writer, p *client.Pool) {
	poolTable(w, []client.Pool{*p})
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Status:       %s\n", dash(p.Status))
	fmt.Fprintf(w, "Autoscaling:  %s\n", dash(p.ScaleStatus))
	fmt.Fprintln(w)
	row(w, "ROLE", "HOST", "CORES", "MEMORY", "STATE", "REASON")
	for _, h := range p.Hosts {
		role := "member"
		switch {
		case h.Spare:
			role = "spare"
		case !h.Joined:
			role = "joining"
		}
		row(w, role, h.Name, strconv.Itoa(h.Cores), purser.FormatBytes(h.Memory), h.State, dash(h.Reason))
	}
	if len(p.Hooks.Join)+len(p.Hooks.Leave)+len(p.Hooks.Reboot) > 0 {
		fmt.Fprintln(w)
	}
	for _, x := range []struct {
		kind string
		argv []string
	}{{"join", p.Hooks.Join}, {"leave", p.Hooks.Leave}, {"reboot", p.Hooks.Reboot}} {
		if len(x.argv) > 0 {
			fmt.Fprintf(w, "%s hook:\t%q\n", x.kind, x.argv)
		}
	}
}

func placementView(w io.Writer, pl client.PoolPlacement) {
	row(w, "ROLE", "HOST", "CORES", "MEMORY", "STATE")
	poolHostRows(w, "member", pl.Members)
	poolHostRows(w, "spare", pl.Spares)
	fmt.Fprintf(w, "\nAsked %s; members offer %s (over by %s).\n", sizeString(pl.Need), sizeString(pl.Total), sizeString(pl.Overshoot))
}

func resizeView(w io.Writer, r *client.ResizePlan) {
	row(w, "CHANGE", "HOST", "CORES", "MEMORY", "STATE")
	poolHostRows(w, "join", r.Add)
	poolHostRows(w, "leave", r.Remove)
	fmt.Fprintf(w, "\nFrom %s to %s (target %s, over by %s).\n", sizeString(r.Before), sizeString(r.After), sizeString(r.Target), sizeString(r.Overshoot))
}

// memoryFlag reads --memory as 128GiB, 512MiB...
func memoryFlag(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := purser.ParseBytes(s)
	if err != nil {
		return 0, UsageError{fmt.Errorf("--memory: %w", err)}
	}
	return n, nil
}

func newPoolsCmd(cli *env) *cobra.Command {
	cmd := &cobra.Command{Use: "pools", Aliases: []string{"pool"}, Short: "Pools: clusters of in-house hosts sized in cores and memory (devops, admins)"}
	cmd.AddCommand(newPoolCreateCmd(cli), newPoolHooksCmd(cli), newPoolResizeCmd(cli), newPoolDestroyCmd(cli), newPoolListCmd(cli), newPoolGetCmd(cli))
	cmd.AddCommand(newPoolNodeCmds(cli)...)
	return cmd
}

func newPoolCreateCmd(cli *env) *cobra.Command {
	var in client.PoolCreate
	var memory string
	var selector []string
	var hf hookFlags
	create := &cobra.Command{Use: "create NAME --cores N --memory SIZE", Short: "Create a pool by best fit, showing the plan first", Args: cobra.ExactArgs(1),
		Example: "  purser pools create web --cores 32 --memory 128GiB --spares 1 --selector rack=3",
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			in.Name = args[0]
			if in.Memory, err = memoryFlag(memory); err != nil {
				return err
			}
			if in.Selector, err = parseLabels(selector); err != nil {
				return err
			}
			if hf.set() {
				h, err := hf.hooks()
				if err != nil {
					return err
				}
				in.Hooks = &h
			}
			dry := in.DryRun
			in.DryRun = true
			plan, err := c.CreatePool(cmd.Context(), in)
			if err != nil || dry {
				if err == nil {
					err = cli.render(plan, func(w io.Writer) { placementView(w, plan.Placement) })
				}
				return err
			}
			if cli.tableOutput() {
				tw := newTable(cli.stdout)
				placementView(tw, plan.Placement)
				_ = tw.Flush()
			}
			in.DryRun = false
			created, err := c.CreatePool(cmd.Context(), in)
			if err != nil {
				return err
			}
			return cli.render(created.Pool, func(w io.Writer) { fmt.Fprintf(w, "\nPool %s created.\n", in.Name) })
		}}
	f := create.Flags()
	f.IntVar(&in.Cores, "cores", 0, "total cores the members must offer")
	f.StringVar(&memory, "memory", "", "total memory the members must offer, e.g. 128GiB")
	f.IntVar(&in.Spares, "spares", 0, "hosts held in reserve to replace failed members")
	f.StringArrayVar(&selector, "selector", nil, "only hosts with this label, key=value (repeat)")
	f.IntVar(&in.MinHosts, "min-hosts", 0, "the least members autoscaling keeps")
	f.IntVar(&in.MaxHosts, "max-hosts", 0, "the most members (0: no maximum)")
	f.StringVar(&in.Cluster, "cluster", "", "the registered cluster (kind kubernetes) that is the pool's control plane")
	hf.add(create)
	f.BoolVar(&in.DryRun, "dry-run", false, "only show the plan")
	return create
}

func newPoolResizeCmd(cli *env) *cobra.Command {
	var in client.PoolResize
	var memory string
	resize := &cobra.Command{Use: "resize NAME [--cores N] [--memory SIZE]", Short: "Resize a pool to absolute totals (an overshoot needs --yes)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			if in.Memory, err = memoryFlag(memory); err != nil {
				return err
			}
			dry := in.DryRun
			in.DryRun = true
			plan, err := c.ResizePool(cmd.Context(), args[0], in)
			if err != nil || dry {
				if err == nil {
					err = cli.render(plan, func(w io.Writer) { resizeView(w, plan) })
				}
				return err
			}
			tw := newTable(cli.stderr)
			resizeView(tw, plan)
			_ = tw.Flush()
			if over := plan.Overshoot; (over.Cores > 0 || over.Memory > 0) && !in.Yes {
				if err := cli.confirm(fmt.Sprintf("The pool lands %s over its target.", sizeString(over))); err != nil {
					return err
				}
			}
			in.DryRun, in.Yes = false, true
			done, err := c.ResizePool(cmd.Context(), args[0], in)
			if err != nil {
				return err
			}
			return cli.render(done, func(w io.Writer) { fmt.Fprintf(w, "Pool %s resized to %s.\n", args[0], sizeString(done.After)) })
		}}
	resize.Flags().IntVar(&in.Cores, "cores", 0, "the new total of cores (default: unchanged)")
	resize.Flags().StringVar(&memory, "memory", "", "the new total of memory, e.g. 256GiB (default: unchanged)")
	resize.Flags().BoolVar(&in.Yes, "yes", false, "go ahead when the plan overshoots the target")
	resize.Flags().BoolVar(&in.DryRun, "dry-run", false, "only show the plan")
	return resize
}

func newPoolDestroyCmd(cli *env) *cobra.Command {
	var yes bool
	destroy := &cobra.Command{Use: "destroy NAME", Short: "Destroy a pool: every host leaves for the free inventory", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			if !yes {
				if err := cli.confirm(fmt.Sprintf("Destroy pool %s?", args[0])); err != nil {
					return err
				}
			}
			p, err := c.DestroyPool(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if p != nil && p.State == string(purser.PoolDestroying) {
				fmt.Fprintf(cli.stdout, "Pool %s is being destroyed: its hosts run their leave hooks; it goes once they all succeeded (purser pools get %s).\n", p.Name, p.Name)
				return nil
			}
			if p != nil {
				return fmt.Errorf("pool %s is %s: %s", p.Name, p.State, p.Status)
			}
			fmt.Fprintf(cli.stdout, "Pool %s destroyed.\n", args[0])
			return nil
		}}
	destroy.Flags().BoolVar(&yes, "yes", false, "do not ask for confirmation")
	return destroy
}

func newPoolListCmd(cli *env) *cobra.Command {
	var lo client.ListOptions
	list := &cobra.Command{Use: "list", Short: "List pools", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			l, err := c.ListPools(cmd.Context(), lo)
			if err != nil {
				return err
			}
			return cli.render(l, func(w io.Writer) { poolTable(w, l.Items); pageFooter(w, l.Meta, len(l.Items)) })
		}}
	listFlags(list, &lo, `{"state":"ACTIVE"}`, "name")
	return list
}

func newPoolGetCmd(cli *env) *cobra.Command {
	return &cobra.Command{Use: "get NAME", Short: "Show a pool, its hosts and why not", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			p, err := c.GetPool(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return cli.render(p, func(w io.Writer) { poolView(w, p) })
		}}
}

// newPoolNodeCmds are add-node, drain and remove-node.
func newPoolNodeCmds(cli *env) []*cobra.Command {
	node := func(use, short string, call func(c *client.Client, cmd *cobra.Command, pool, host string) (*client.Host, error)) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := cli.client()
				if err != nil {
					return err
				}
				h, err := call(c, cmd, args[0], args[1])
				if err != nil {
					return err
				}
				return cli.render(h, func(w io.Writer) { hostTable(w, []client.Host{*h}) })
			}}
	}
	add := node("add-node POOL HOST", "Add a free host (or a spare) to a pool", func(c *client.Client, cmd *cobra.Command, pool, host string) (*client.Host, error) {
		return c.AddNode(cmd.Context(), pool, host)
	})
	var deadline time.Duration
	drain := node("drain POOL HOST", "Drain a member, then release it", func(c *client.Client, cmd *cobra.Command, pool, host string) (*client.Host, error) {
		return c.DrainNode(cmd.Context(), pool, host, int(deadline/time.Second))
	})
	drain.Flags().DurationVar(&deadline, "deadline", time.Hour, "when to force the drain")
	remove := node("remove-node POOL HOST", "Release a host from a pool to the free inventory", func(c *client.Client, cmd *cobra.Command, pool, host string) (*client.Host, error) {
		return c.RemoveNode(cmd.Context(), pool, host)
	})
	return []*cobra.Command{add, drain, remove}
}
