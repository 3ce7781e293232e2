package cli

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// newSetPasswordCmd is `purser users set-password USER`: the password is
// read from standard input (one line), never from the command line, where
// other users of the machine could read it.
func newSetPasswordCmd(cli *env) *cobra.Command {
	return &cobra.Command{
		Use: "set-password USER", Short: "Set a user's web UI password, read from standard input (one's own, or anyone's for admins)",
		Example: "  printf '%s\\n' \"$PASSWORD\" | purser users set-password bbb", Args: cobra.ExactArgs(1),
		ValidArgsFunction: cli.completeFrom(userIDs),
		RunE: func(cmd *cobra.Command, args []string) error {
			line, err := bufio.NewReader(cli.stdin).ReadString('\n')
			pw := strings.TrimRight(line, "\r\n")
			if pw == "" && err != nil {
				return errors.New("give the password on standard input, on one line")
			}
			c, err := cli.client()
			if err != nil {
				return err
			}
			if err := c.SetPassword(cmd.Context(), args[0], pw); err != nil {
				return err
			}
			fmt.Fprintf(cli.stdout, "Password of %s set; its web sessions ended.\n", args[0])
			return nil
		},
	}
}

// newSignInLinkCmd is `purser users signin-link USER`.
func newSignInLinkCmd(cli *env) *cobra.Command {
	return &cobra.Command{
		Use: "signin-link USER", Short: "Make a one-time link with which a user sets a password and signs in to the web UI (admins)",
		Args: cobra.ExactArgs(1), ValidArgsFunction: cli.completeFrom(userIDs),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			l, err := c.CreateSignInLink(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cli.stdout, "Send %s this link, usable once until %s:\n\n    %s%s\n",
				args[0], l.ExpiresAt.Local().Format("2006-01-02 15:04 MST"), strings.TrimSuffix(c.BaseURL, "/"), l.Path)
			return nil
		},
	}
}
