package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/purserhq/purser/client"
)

func newClustersCmd(cli *env) *cobra.Command {
	cmd := &cobra.Command{Use: "clusters", Aliases: []string{"cluster"}, Short: "Registered clusters (devops, admins)"}
	table := func(w io.Writer, cs []client.Cluster) {
		row(w, "NAME", "KIND", "SERVER", "REACHABLE", "VERSION", "CHECKED", "ERROR")
		for _, c := range cs {
			row(w, c.Name, c.Kind, c.Server, yesNo(c.Reachable), dash(c.Version), since(c.CheckedAt), dash(c.LastError))
		}
	}
	var in client.ClusterCreate
	var kubeconfig, caFile string
	add := &cobra.Command{Use: "add NAME (--kubeconfig FILE | --api-server URL --bearer-token T [--ca FILE] | --kind sim)", Short: "Register a cluster", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			in.Name = args[0]
			if kubeconfig != "" {
				b, err := os.ReadFile(kubeconfig)
				if err != nil {
					return err
				}
				in.Kubeconfig = string(b)
			}
			if caFile != "" {
				b, err := os.ReadFile(caFile)
				if err != nil {
					return err
				}
				in.CA = string(b)
			}
			cl, err := c.CreateCluster(cmd.Context(), in)
			if err != nil {
				return err
			}
			return cli.render(cl, func(w io.Writer) { table(w, []client.Cluster{*cl}) })
		}}
	add.Flags().StringVar(&kubeconfig, "kubeconfig", "", "a kubeconfig file (its current context), with inline credentials only: no exec, auth-provider or file paths")
	add.Flags().StringVar(&in.Server, "api-server", "", "the cluster's API server URL")
	add.Flags().StringVar(&in.Token, "bearer-token", "", "a bearer token for the cluster")
	add.Flags().StringVar(&caFile, "ca", "", "the server's CA certificate (PEM file)")
	add.Flags().StringVar(&in.Description, "description", "", "what it is")
	add.Flags().StringVar(&in.Kind, "kind", "", "kubernetes (the default) or sim: a built-in simulated cluster, without credentials")
	var lo client.ListOptions
	list := &cobra.Command{Use: "list", Short: "List clusters", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			l, err := c.ListClusters(cmd.Context(), lo)
			if err != nil {
				return err
			}
			return cli.render(l, func(w io.Writer) { table(w, l.Items) })
		}}
	listFlags(list, &lo, `{"kind":"kubernetes"}`, "name")
	get := &cobra.Command{Use: "get NAME", Short: "Check a cluster now and show it", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			cl, err := c.CheckCluster(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return cli.render(cl, func(w io.Writer) { table(w, []client.Cluster{*cl}) })
		}}
	remove := &cobra.Command{Use: "remove NAME", Short: "Remove a cluster that hosts no environment", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			if err := c.DeleteCluster(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cli.stdout, "Cluster %s removed.\n", args[0])
			return nil
		}}
	cmd.AddCommand(add, list, get, newClusterUpdateCmd(cli, table), remove)
	return cmd
}

// newClusterUpdateCmd changes a cluster's description or credentials.
func newClusterUpdateCmd(cli *env, table func(io.Writer, []client.Cluster)) *cobra.Command {
	var desc, kubeconfig, server, token, caFile, etag string
	update := &cobra.Command{Use: "update NAME [--description TEXT] [--kubeconfig FILE | --api-server URL --bearer-token T [--ca FILE]]",
		Short: "Change a cluster's description or credentials; new credentials are checked, and the cluster too", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			var p client.ClusterPatch
			f := cmd.Flags()
			for _, x := range []struct {
				flag string
				src  *string
				dst  **string
			}{{"description", &desc, &p.Description}, {"api-server", &server, &p.Server}, {"bearer-token", &token, &p.Token}} {
				if f.Changed(x.flag) {
					*x.dst = x.src
				}
			}
			for _, x := range []struct {
				file string
				dst  **string
			}{{kubeconfig, &p.Kubeconfig}, {caFile, &p.CA}} {
				if x.file != "" {
					b, err := os.ReadFile(x.file)
					if err != nil {
						return err
					}
					s := string(b)
					*x.dst = &s
				}
			}
			if p == (client.ClusterPatch{}) {
				return UsageError{fmt.Errorf("nothing to change: give --description, --kubeconfig, or --api-server and --bearer-token")}
			}
			cl, err := c.UpdateCluster(cmd.Context(), args[0], p, etag)
			if err != nil {
				return unsupported(err, "change clusters", "remove it and add it again")
			}
			return cli.render(cl, func(w io.Writer) { table(w, []client.Cluster{*cl}) })
		}}
	f := update.Flags()
	f.StringVar(&desc, "description", "", "what it is")
	f.StringVar(&kubeconfig, "kubeconfig", "", "a new kubeconfig file, with inline credentials only: no exec, auth-provider or file paths")
	f.StringVar(&server, "api-server", "", "the cluster's API server URL (with --bearer-token)")
	f.StringVar(&token, "bearer-token", "", "a new bearer token for the cluster")
	f.StringVar(&caFile, "ca", "", "the server's CA certificate (PEM file; with --bearer-token)")
	f.StringVar(&etag, "if-match", "", "only if the cluster's _etag is still this")
	return update
}

func newKubeconfigCmd(cli *env) *cobra.Command {
	return &cobra.Command{Use: "kubeconfig ID", Short: "Print the kubeconfig of a Kubernetes environment (the requester and admins)", Args: cobra.ExactArgs(1), ValidArgsFunction: cli.completeFrom(requestIDs),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			// The server says why there is none (status, template, driver).
			kc, err := c.RequestKubeconfig(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if kc.Simulated {
				fmt.Fprintln(cli.stderr, "note: a simulated kubeconfig (sim driver): it reaches no cluster")
			}
			_, err = io.WriteString(cli.stdout, kc.Kubeconfig)
			return err
		}}
}
