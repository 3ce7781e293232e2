// Command purser is Purser in one binary: `purser server` runs the API, the
// UI and the workers; every other subcommand is the CLI, which talks to a
// server only through the public client package.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	commands "github.com/purserhq/purser/internal/cli" // "cli" is the tests' helper
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
	err := root.ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "purser: "+commands.Message(err))
	}
	return commands.ExitCode(err)
}

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer, h hooks) *cobra.Command {
	return commands.NewRootCmd(stdin, stdout, stderr, newServerCmd(stdout, stderr, h), newAdminCmd(stdout),
		newBackupCmd(stdout), newRestoreCmd(stdout), newHealthcheckCmd(stdout))
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
