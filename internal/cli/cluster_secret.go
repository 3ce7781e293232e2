package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// maxSecretRead bounds what readSecret reads: a cluster secret is at most
// 64 KiB, and the server names a longer one.
const maxSecretRead = 1 << 20

// newClusterSecretsCmd is `purser clusters secrets`: the values a
// cluster's stackfile names ${NAME}. Values are read from standard input
// or a file, never from a flag, so that they stay out of shell history
// and process listings; they are never printed.
func newClusterSecretsCmd(cli *env) *cobra.Command {
	cmd := &cobra.Command{Use: "secrets", Aliases: []string{"secret"}, Short: "A cluster's secrets, which stackfiles name ${NAME} (values never shown)"}
	var fromFile string
	set := &cobra.Command{Use: "set CLUSTER NAME [--from-file FILE]", Short: "Create or replace a secret; the value is read from standard input (devops, admins)",
		Example: "  printf %s \"$DB_PASSWORD\" | purser clusters secrets set staging DB_PASSWORD\n  purser clusters secrets set staging TLS_KEY --from-file key.pem",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			value, err := readSecret(cli, fromFile, "value of "+args[1])
			if err != nil {
				return err
			}
			c, err := cli.client()
			if err != nil {
				return err
			}
			sec, err := c.SetClusterSecret(cmd.Context(), args[0], args[1], value)
			if err != nil {
				return err
			}
			return cli.render(sec, func(io.Writer) {
				fmt.Fprintf(cli.stdout, "Secret %s of %s set.\n", sec.Name, sec.Cluster)
			})
		}}
	set.Flags().StringVar(&fromFile, "from-file", "", "read the value from this file (- for standard input), as is")
	list := &cobra.Command{Use: "list CLUSTER", Short: "List a cluster's secrets: names and dates", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			l, err := c.ClusterSecrets(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return cli.render(l, func(w io.Writer) {
				row(w, "NAME", "CREATED", "UPDATED")
				for _, s := range l.Items {
					row(w, s.Name, when(s.Created), when(s.Updated))
				}
			})
		}}
	rm := &cobra.Command{Use: "rm CLUSTER NAME", Aliases: []string{"remove"}, Short: "Remove a secret the current revision does not name (devops, admins)",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			if err := c.DeleteClusterSecret(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintf(cli.stdout, "Secret %s of %s removed.\n", args[1], args[0])
			return nil
		}}
	cmd.AddCommand(set, list, rm)
	return cmd
}

// readSecret reads a secret: from file (- for standard input) as is, or
// from standard input, asked for without echo on a terminal; a trailing
// newline from a pipe (echo) is dropped.
func readSecret(cli *env, file, what string) (string, error) {
	var b []byte
	var err error
	switch f, ok := cli.stdin.(*os.File); {
	case file != "" && file != "-":
		if b, err = os.ReadFile(file); err != nil {
			return "", err
		}
		return string(b), nil
	case ok && isTerminal(f):
		fmt.Fprintf(cli.stderr, "%s: ", what)
		b, err = term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(cli.stderr)
	default:
		b, err = io.ReadAll(io.LimitReader(cli.stdin, maxSecretRead))
		b = bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r"))
	}
	if err != nil {
		return "", fmt.Errorf("read the %s: %w", what, err)
	}
	if len(b) == 0 {
		return "", UsageError{fmt.Errorf("no %s: give it on standard input, or with a file flag", what)}
	}
	return string(b), nil
}
