// Command purser is Purser in one binary: `purser server` runs the API, the
// UI and the workers; every other subcommand is the CLI, which talks to a
// server only through the public client package.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/purserhq/purser"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Main runs purser with args and returns the exit code. Errors are printed
// as one line on stderr.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(ctx, args, stdin, stdout, stderr, hooks{})
}

// run is Main with the hooks a test sets.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, h hooks) int {
	root := newRootCmd(stdin, stdout, stderr, h)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "purser: "+oneLine(err))
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

type usageError struct{ error }

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer, h hooks) *cobra.Command {
	cli := &cliEnv{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "purser",
		Short:         "Purser: self-service infrastructure control plane",
		Long:          "Purser: developers ask for environments, DevOps keeps the guardrails.\n\n`purser server` runs the control plane; the other commands talk to one.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetIn(stdin)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&cli.server, "server", "", "server URL (default: from `purser login`, or $PURSER_SERVER)")
	pf.StringVar(&cli.token, "token", "", "API token (default: from `purser login`, or $PURSER_TOKEN)")
	pf.StringVarP(&cli.output, "output", "o", "table", "output format: table, json or yaml")
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json", "yaml"}, cobra.ShellCompDirectiveNoFileComp))

	root.AddCommand(newServerCmd(stdout, stderr, h), newVersionCmd(cli), newLoginCmd(cli), newWhoamiCmd(cli),
		newUsersCmd(cli), newRolesCmd(cli), newTokensCmd(cli), newTemplatesCmd(cli), newRequestCmd(cli), newQuotasCmd(cli),
		newInboxCmd(cli), newEventsCmd(cli), newClustersCmd(cli), newAdminCmd(stdout))
	return root
}

func newServerCmd(stdout, stderr io.Writer, h hooks) *cobra.Command {
	var configPath string
	var printConfig, demo bool
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the Purser server: API, UI and workers",
		Long: "Run the Purser server. With no configuration it uses SQLite in ./purser-data and listens on 127.0.0.1:8080.\n" +
			"Configuration: --config FILE (YAML), then PURSER_* environment variables (PURSER_LISTEN, PURSER_DATABASE, ...).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := LoadConfig(configPath, os.Environ())
			if err != nil {
				return err
			}
			if printConfig {
				return yaml.NewEncoder(stdout).Encode(cfg.Redacted())
			}
			return runServer(cmd.Context(), cfg, demo, stdout, stderr, h)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "YAML configuration file")
	cmd.Flags().BoolVar(&printConfig, "print-config", false, "print the effective configuration, secrets redacted, and exit")
	cmd.Flags().BoolVar(&demo, "demo", false, "seed demo users, templates on the simulated cloud and a quota, and print their tokens")
	return cmd
}

func newVersionCmd(cli *cliEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print purser's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cli.stdout, "purser "+purser.Version)
			return err
		},
	}
}
