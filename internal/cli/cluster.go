package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/purserhq/purser/client"
)

func newClustersCmd(cli *env) *cobra.Command {
	cmd := &cobra.Command{Use: "clusters", Aliases: []string{"cluster"}, Short: "Registered clusters (devops, admins)"}
	table := func(w io.Writer, cs []client.Cluster) {
		row(w, "NAME", "KIND", "SERVER", "REACHABLE", "VERSION", "CHECKED", "DEPLOYERS", "ERROR")
		for _, c := range cs {
			row(w, c.Name, c.Kind, c.Server, yesNo(c.Reachable), dash(c.Version), since(c.CheckedAt), dash(strings.Join(c.Deployers, ",")), dash(c.LastError))
		}
	}
	var in client.ClusterCreate
	var kubeconfig, caFile, secretFile, configFile string
	add := &cobra.Command{Use: "add NAME (--kubeconfig FILE | --api-server URL --bearer-token T [--ca FILE] | --kind sim | --kind ecs --region R --ecs-cluster C (--access-key-id ID | --role-arn ARN))",
		Aliases: []string{"create"}, Short: "Register a cluster", Args: cobra.ExactArgs(1),
		Example: "  purser clusters add staging --kind sim --deployer user:alice --deployer role:release\n" +
			"  purser clusters add prod --kind ecs --region eu-west-1 --ecs-cluster prod --access-key-id AKIA... < secret-key.txt\n" +
			"  purser clusters add prod --kind ecs --region eu-west-1 --ecs-cluster prod --role-arn arn:aws:iam::123456789012:role/purser\n" +
			"  purser clusters add staging --kind sim --config stack.yaml      # with its first stackfile, deployed at once",
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
			if in.AccessKeyID != "" {
				if in.SecretAccessKey, err = readSecret(cli, secretFile, "secret access key"); err != nil {
					return err
				}
			}
			if configFile != "" {
				b, err := readFileOrStdin(cli, configFile)
				if err != nil {
					return err
				}
				// YAML or JSON (JSON is YAML); the server checks it.
				if err := yaml.Unmarshal(b, &in.Config); err != nil {
					return invalid{fmt.Errorf("--config %s is not YAML or JSON: %w", configFile, err)}
				}
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
	add.Flags().StringVar(&in.Kind, "kind", "", "kubernetes (the default); sim: a built-in simulated cluster, without credentials; ecs: an Amazon ECS cluster (not checked yet)")
	add.Flags().StringVar(&in.Region, "region", "", "ecs: the AWS region")
	add.Flags().StringVar(&in.ECSCluster, "ecs-cluster", "", "ecs: the ECS cluster's name")
	add.Flags().StringVar(&in.Endpoint, "endpoint", "", "ecs: an AWS-compatible endpoint URL, in place of the region's")
	add.Flags().StringVar(&in.AccessKeyID, "access-key-id", "", "ecs: an access key id; its secret is read from standard input, or --secret-access-key-file")
	add.Flags().StringVar(&secretFile, "secret-access-key-file", "", "ecs: a file holding the secret access key (- for standard input)")
	add.Flags().StringVar(&in.RoleARN, "role-arn", "", "ecs: an IAM role to assume, in place of an access key")
	add.Flags().StringVar(&in.StackNamespace, "stack-namespace", "", "the Kubernetes namespace the stack is applied into (default stacks)")
	add.Flags().StringVar(&in.DriftMode, "drift", "", "what a drift scan does: ignore, warn (the default) or correct")
	add.Flags().StringVar(&in.HealthyDeadline, "healthy-deadline", "", "how long a service may take to become healthy in a rollout, e.g. 90s (default 5m)")
	add.Flags().StringVar(&configFile, "config", "", "the cluster's first stackfile, YAML or JSON (- for standard input): revision 1, deployed at once")
	add.Flags().StringArrayVar(&in.Deployers, "deployer", nil, "user:USERNAME or role:ROLE who may change the stack's image tags and counts (repeat)")
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
	cmd.AddCommand(add, list, get, newClusterUpdateCmd(cli, table), remove, newClusterSecretsCmd(cli))
	return cmd
}

// newClusterUpdateCmd changes a cluster's description, credentials or
// deployers.
func newClusterUpdateCmd(cli *env, table func(io.Writer, []client.Cluster)) *cobra.Command {
	var desc, kubeconfig, server, token, caFile, etag, secretFile string
	var region, ecsCluster, endpoint, keyID, roleARN string
	var stackNS, drift, healthy string
	var deployers []string
	var noDeployers bool
	update := &cobra.Command{Use: "update NAME [--description TEXT] [--kubeconfig FILE | --api-server URL --bearer-token T [--ca FILE] | ecs flags] [--deployer D]...",
		Short: "Change a cluster's description, credentials or deployers; new credentials are checked, and the cluster too", Args: cobra.ExactArgs(1),
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
			}{{"description", &desc, &p.Description}, {"api-server", &server, &p.Server}, {"bearer-token", &token, &p.Token},
				{"region", &region, &p.Region}, {"ecs-cluster", &ecsCluster, &p.ECSCluster}, {"endpoint", &endpoint, &p.Endpoint},
				{"access-key-id", &keyID, &p.AccessKeyID}, {"role-arn", &roleARN, &p.RoleARN},
				{"stack-namespace", &stackNS, &p.StackNamespace}, {"drift", &drift, &p.DriftMode}, {"healthy-deadline", &healthy, &p.HealthyDeadline}} {
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
			if p.AccessKeyID != nil || secretFile != "" {
				secret, err := readSecret(cli, secretFile, "secret access key")
				if err != nil {
					return err
				}
				p.SecretAccessKey = &secret
			}
			switch {
			case noDeployers && len(deployers) > 0:
				return UsageError{fmt.Errorf("give --deployer or --no-deployers, not both")}
			case noDeployers:
				p.Deployers = &[]string{}
			case len(deployers) > 0:
				p.Deployers = &deployers
			}
			if p == (client.ClusterPatch{}) {
				return UsageError{fmt.Errorf("nothing to change: give --description, --kubeconfig, --api-server and --bearer-token, ecs flags, --deployer or stack settings")}
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
	f.StringVar(&stackNS, "stack-namespace", "", "the Kubernetes namespace the stack is applied into (\"\" for the default, stacks)")
	f.StringVar(&drift, "drift", "", "what a drift scan does: ignore, warn (the default) or correct")
	f.StringVar(&healthy, "healthy-deadline", "", "how long a service may take to become healthy in a rollout, e.g. 90s (\"\" for the default, 5m)")
	f.StringVar(&region, "region", "", "ecs: a new AWS region")
	f.StringVar(&ecsCluster, "ecs-cluster", "", "ecs: a new ECS cluster name")
	f.StringVar(&endpoint, "endpoint", "", "ecs: a new endpoint URL (\"\" for the region's)")
	f.StringVar(&keyID, "access-key-id", "", "ecs: a new access key id; its secret is read from standard input, or --secret-access-key-file")
	f.StringVar(&secretFile, "secret-access-key-file", "", "ecs: a file holding the (new) secret access key (- for standard input); alone, it rotates the key's secret")
	f.StringVar(&roleARN, "role-arn", "", "ecs: an IAM role to assume, replacing the access key")
	f.StringArrayVar(&deployers, "deployer", nil, "user:USERNAME or role:ROLE; repeat: the list replaces the cluster's deployers")
	f.BoolVar(&noDeployers, "no-deployers", false, "remove every deployer")
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
