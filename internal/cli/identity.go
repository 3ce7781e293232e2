package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/purserhq/purser/client"
)

func newLoginCmd(cli *env) *cobra.Command {
	return &cobra.Command{
		Use:   "login --server URL --token TOKEN",
		Short: "Save the server and token the CLI uses (in your configuration directory, mode 0600)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cli.server == "" || cli.token == "" {
				return UsageError{fmt.Errorf("login needs --server URL and --token TOKEN")}
			}
			server, err := serverURL(cli.server)
			if err != nil {
				return err
			}
			c := client.New(server, cli.token)
			me, err := c.Me(cmd.Context())
			if err != nil {
				return fmt.Errorf("login refused: %w", err)
			}
			p, err := saveLogin(savedLogin{Server: server, Token: cli.token})
			if err != nil {
				return fmt.Errorf("save login: %w", err)
			}
			fmt.Fprintf(cli.stdout, "Logged in to %s as %s (%s). Saved in %s.\n", server, me.Username, strings.Join(me.Roles, ", "), p)
			return nil
		},
	}
}

func newWhoamiCmd(cli *env) *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Show the user the CLI acts as",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			me, err := c.Me(cmd.Context())
			if err != nil {
				return err
			}
			return cli.render(me, func(w io.Writer) { userTable(w, []client.User{*me}) })
		},
	}
}

func userTable(w io.Writer, users []client.User) {
	row(w, "ID", "USERNAME", "NAME", "EMAIL", "ROLES", "ACTIVE")
	for _, u := range users {
		row(w, u.ID, u.Username, dash(u.Name), dash(u.Email), dash(strings.Join(u.Roles, ",")), yesNo(u.IsActive))
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// listFlags adds --where, --sort, --page and --max-results to a list
// command; where is an example filter for its help, sortBy a field.
func listFlags(cmd *cobra.Command, o *client.ListOptions, where, sortBy string) {
	cmd.Flags().StringVar(&o.Where, "where", "", "JSON filter, e.g. '"+where+"'")
	cmd.Flags().StringVar(&o.Sort, "sort", "", "sort fields, - for descending, e.g. -_created,"+sortBy)
	// The example needs the command's whole path, known once the tree
	// is built: NewRootCmd writes it (finish).
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations["where"] = where
	cmd.Flags().IntVar(&o.Page, "page", 0, "page number, from 1")
	cmd.Flags().IntVar(&o.MaxResults, "max-results", 0, "items per page (default 25, at most 200)")
}

func pageFooter(w io.Writer, m client.ListMeta, shown int) {
	if m.Total != nil && *m.Total > shown {
		fmt.Fprintf(w, "\n(page %d: %d of %d; --page %d for more)\n", m.Page, shown, *m.Total, m.Page+1)
	}
}

func newUsersCmd(cli *env) *cobra.Command {
	cmd := &cobra.Command{Use: "users", Aliases: []string{"user"}, Short: "Manage users"}
	var lo client.ListOptions
	list := &cobra.Command{
		Use: "list", Short: "List users", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			l, err := c.ListUsers(cmd.Context(), lo)
			if err != nil {
				return err
			}
			return cli.render(l, func(w io.Writer) {
				userTable(w, l.Items)
				pageFooter(w, l.Meta, len(l.Items))
			})
		},
	}
	listFlags(list, &lo, `{"roles":"dev","is_active":true}`, "username")

	var in client.UserCreate
	create := &cobra.Command{
		Use: "create USERNAME", Short: "Create a user (admins)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			in.Username = args[0]
			u, err := c.CreateUser(cmd.Context(), in)
			if err != nil {
				return err
			}
			return cli.render(u, func(w io.Writer) { userTable(w, []client.User{*u}) })
		},
	}
	create.Flags().StringVar(&in.Name, "name", "", "full name")
	create.Flags().StringVar(&in.Email, "email", "", "email address")
	create.Flags().StringSliceVar(&in.Roles, "role", nil, "role (repeat, or comma-separate): admin, devops, dev, ...")

	get := &cobra.Command{
		Use: "get ID", Short: "Show a user", Args: cobra.ExactArgs(1), ValidArgsFunction: cli.completeFrom(userIDs),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			u, err := c.GetUser(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return cli.render(u, func(w io.Writer) { userTable(w, []client.User{*u}) })
		},
	}

	var name, email, etag string
	var roles []string
	update := &cobra.Command{
		Use: "update ID", Short: "Change a user's name, email or roles", Args: cobra.ExactArgs(1), ValidArgsFunction: cli.completeFrom(userIDs),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			var p client.UserPatch
			if cmd.Flags().Changed("name") {
				p.Name = &name
			}
			if cmd.Flags().Changed("email") {
				p.Email = &email
			}
			if cmd.Flags().Changed("role") {
				p.Roles = &roles
			}
			if p == (client.UserPatch{}) {
				return UsageError{fmt.Errorf("nothing to change: give --name, --email or --role")}
			}
			u, err := c.UpdateUser(cmd.Context(), args[0], p, etag)
			if err != nil {
				return err
			}
			return cli.render(u, func(w io.Writer) { userTable(w, []client.User{*u}) })
		},
	}
	update.Flags().StringVar(&name, "name", "", "full name")
	update.Flags().StringVar(&email, "email", "", "email address")
	update.Flags().StringSliceVar(&roles, "role", nil, "replace the roles (repeat, or comma-separate)")
	update.Flags().StringVar(&etag, "if-match", "", "only if the user's _etag is still this")

	deactivate := &cobra.Command{
		Use: "deactivate ID", Short: "Deactivate a user: its tokens stop working", Args: cobra.ExactArgs(1), ValidArgsFunction: cli.completeFrom(userIDs),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			if err := c.DeactivateUser(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cli.stdout, "User %s deactivated.\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(list, create, get, update, deactivate, newSetPasswordCmd(cli), newSignInLinkCmd(cli))
	return cmd
}

func newRolesCmd(cli *env) *cobra.Command {
	cmd := &cobra.Command{Use: "roles", Aliases: []string{"role"}, Short: "Manage roles"}
	var lo client.ListOptions
	list := &cobra.Command{
		Use: "list", Short: "List roles", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			l, err := c.ListRoles(cmd.Context(), lo)
			if err != nil {
				return err
			}
			return cli.render(l, func(w io.Writer) {
				row(w, "ROLE", "DESCRIPTION", "BUILT-IN", "ACTIVE")
				for _, r := range l.Items {
					row(w, r.Role, dash(r.Description), yesNo(r.BuiltIn), yesNo(r.IsActive))
				}
				pageFooter(w, l.Meta, len(l.Items))
			})
		},
	}
	listFlags(list, &lo, `{"is_active":true}`, "role")
	var desc string
	create := &cobra.Command{
		Use: "create ROLE", Short: "Create a role (admins)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			r, err := c.CreateRole(cmd.Context(), args[0], desc)
			if err != nil {
				return err
			}
			return cli.render(r, func(w io.Writer) {
				row(w, "ROLE", "DESCRIPTION", "BUILT-IN")
				row(w, r.Role, dash(r.Description), yesNo(r.BuiltIn))
			})
		},
	}
	create.Flags().StringVar(&desc, "description", "", "what the role is for")
	del := &cobra.Command{
		Use: "delete ROLE", Short: "Delete a role that is not built in and that nothing uses (admins)", Args: cobra.ExactArgs(1), ValidArgsFunction: cli.completeFrom(roleNames),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			if err := c.DeleteRole(cmd.Context(), args[0]); err != nil {
				return unsupported(err, "delete roles", "")
			}
			fmt.Fprintf(cli.stdout, "Role %s deleted.\n", args[0])
			return nil
		},
	}
	var udesc, uetag string
	var uactive bool
	update := &cobra.Command{
		Use: "update ROLE [--description TEXT] [--active=false]", Short: "Change a role's description or activity (admins)", Args: cobra.ExactArgs(1),
		ValidArgsFunction: cli.completeFrom(roleNames),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			var p client.RolePatch
			if cmd.Flags().Changed("description") {
				p.Description = &udesc
			}
			if cmd.Flags().Changed("active") {
				p.IsActive = &uactive
			}
			if p == (client.RolePatch{}) {
				return UsageError{fmt.Errorf("nothing to change: give --description or --active")}
			}
			r, err := c.UpdateRole(cmd.Context(), args[0], p, uetag)
			if err != nil {
				return unsupported(err, "change roles", "")
			}
			return cli.render(r, func(w io.Writer) {
				row(w, "ROLE", "DESCRIPTION", "BUILT-IN", "ACTIVE")
				row(w, r.Role, dash(r.Description), yesNo(r.BuiltIn), yesNo(r.IsActive))
			})
		},
	}
	update.Flags().StringVar(&udesc, "description", "", "what the role is for")
	update.Flags().BoolVar(&uactive, "active", true, "whether it may be given to users")
	update.Flags().StringVar(&uetag, "if-match", "", "only if the role's _etag is still this")
	cmd.AddCommand(list, create, update, del)
	return cmd
}

func newTokensCmd(cli *env) *cobra.Command {
	cmd := &cobra.Command{Use: "tokens", Aliases: []string{"token"}, Short: "Manage API tokens"}
	var in client.TokenCreate
	create := &cobra.Command{
		Use: "create NAME", Short: "Create an API token; its secret is shown once", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			in.Name = args[0]
			t, err := c.CreateToken(cmd.Context(), in)
			if err != nil {
				return err
			}
			return cli.render(t, func(w io.Writer) {
				fmt.Fprintf(w, "Token %s (%s) created. Its secret, shown only now:\n\n    %s\n", t.ID, t.Name, t.Token)
			})
		},
	}
	create.Flags().StringVar(&in.User, "user", "", "the username or _id of the user it is for (admins; default yourself)")
	create.Flags().StringVar(&in.ExpiresAt, "expires", "", "when it stops working (RFC 3339); default never")
	var user string
	list := &cobra.Command{
		Use: "list", Short: "List API tokens", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			l, err := c.ListTokens(cmd.Context(), user)
			if err != nil {
				return err
			}
			return cli.render(l, func(w io.Writer) {
				row(w, "ID", "NAME", "HINT", "CREATED", "LAST USED", "EXPIRES", "ACTIVE")
				for _, t := range l.Items {
					row(w, t.ID, t.Name, t.Hint+"...", since(&t.Created), since(t.LastUsedAt), since(t.ExpiresAt), yesNo(t.Active))
				}
			})
		},
	}
	list.Flags().StringVar(&user, "user", "", "the username or _id of the user whose tokens to list (admins; default yours)")
	revoke := &cobra.Command{
		Use: "revoke ID", Short: "Revoke an API token", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			if err := c.RevokeToken(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cli.stdout, "Token %s revoked.\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}
