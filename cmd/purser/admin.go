package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/postgres"
	"github.com/purserhq/purser/internal/sqldb"
	"github.com/purserhq/purser/internal/sqlite"
)

// newAdminCmd groups the commands run on the server's host, against its
// database directly, with the server's own configuration: they recover
// access when no token works, so they cannot go through the API.
func newAdminCmd(stdout io.Writer) *cobra.Command {
	admin := &cobra.Command{
		Use:   "admin",
		Short: "Recover access, on the server's host (reads the server's configuration and database)",
	}
	var configPath, username string
	token := &cobra.Command{
		Use:   "token",
		Short: "Issue a new API token for a user (admin by default) and print it once",
		Long: "Issue a new API token for a user, straight into the server's database: for a first-start admin token\n" +
			"that was never seen, or a demo user's token that cannot be shown again. Run it where the server runs, with\n" +
			"the same --config and PURSER_* variables (data_dir or database). The server may be running.",
		Example: "  purser admin token\n  purser admin token --user bbb\n  PURSER_DATA_DIR=/var/lib/purser purser admin token",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := LoadConfig(configPath, os.Environ())
			if err != nil {
				return err
			}
			secret, err := issueToken(cmd.Context(), cfg, username)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(stdout, "A new API token for %s, shown only now:\n\n    %s\n\nLog the CLI in with:\n\n    %s login --server %s --token %s\n",
				username, secret, selfCommand(), serverURL(cfg), secret)
			return err
		},
	}
	token.Flags().StringVar(&configPath, "config", "", "the server's YAML configuration file")
	token.Flags().StringVar(&username, "user", "admin", "the username the token is for")
	admin.AddCommand(token)
	return admin
}

// issueToken opens the configured database (never creating one) and
// issues a token for username.
func issueToken(ctx context.Context, cfg Config, username string) (string, error) {
	var db *sqldb.DB
	if cfg.IsPostgres() {
		s, err := postgres.Open(ctx, cfg.Database, nil)
		if err != nil {
			return "", err
		}
		defer s.Close()
		db = s.DB
	} else {
		path := cfg.SQLitePath()
		if st, err := os.Stat(path); err != nil || st.Size() == 0 {
			return "", fmt.Errorf("no Purser database at %s: run this where the server runs, with its data_dir (PURSER_DATA_DIR) or --config", path)
		}
		s, err := sqlite.Open(ctx, path, nil)
		if err != nil {
			return "", err
		}
		defer s.Close()
		db = s.DB
	}
	sys := purser.SystemContext(ctx)
	users, n, err := sqldb.NewUserService(db).FindUsers(sys, purser.Query{Where: []purser.Cond{{Field: "username", Op: "$eq", Value: username}}, Page: 1, MaxResults: 1})
	if err != nil {
		return "", err
	}
	if n.Total == 0 {
		return "", purser.Errorf(purser.ENOTFOUND, "no user %q in this database", username)
	}
	_, secret, err := sqldb.NewTokenService(db).CreateToken(sys, users[0].ID, "purser admin token "+time.Now().UTC().Format(time.DateTime), nil)
	if err != nil {
		var pe *purser.Error
		if errors.As(err, &pe) {
			return "", fmt.Errorf("%s", pe.Message)
		}
		return "", err
	}
	return secret, nil
}

// serverURL is where the configured server answers, for printed commands.
func serverURL(cfg Config) string {
	if cfg.PublicURL != "" {
		return cfg.PublicURL
	}
	return "http://" + cfg.Listen
}
