package cli

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/purserhq/purser/client"
)

// Dynamic shell completion: ids the server knows, each with a short
// description, asked for when the user presses Tab.

type completeFunc = func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective)

// completeFrom completes the first argument with what list returns.
func (cli *env) completeFrom(list func(ctx context.Context, c *client.Client, prefix string) ([]cobra.Completion, error)) completeFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return cli.completions(cmd, toComplete, list)
	}
}

// completeFlag completes a flag's value with what list returns.
func (cli *env) completeFlag(list func(ctx context.Context, c *client.Client, prefix string) ([]cobra.Completion, error)) completeFunc {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return cli.completions(cmd, toComplete, list)
	}
}

func (cli *env) completions(cmd *cobra.Command, prefix string, list func(ctx context.Context, c *client.Client, prefix string) ([]cobra.Completion, error)) ([]cobra.Completion, cobra.ShellCompDirective) {
	c, err := cli.client()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Second)
	defer cancel()
	all, err := list(ctx, c, prefix)
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var out []cobra.Completion
	for _, s := range all {
		if strings.HasPrefix(s, prefix) {
			out = append(out, s)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// requestIDs are the newest requests the caller may see.
func requestIDs(ctx context.Context, c *client.Client, _ string) ([]cobra.Completion, error) {
	l, err := c.ListRequests(ctx, client.ListOptions{Sort: "-_created", MaxResults: 100})
	if err != nil {
		return nil, err
	}
	out := make([]cobra.Completion, 0, len(l.Items))
	for _, r := range l.Items {
		out = append(out, cobra.CompletionWithDesc(r.ID, r.ResourceTemplate+" "+r.Status))
	}
	return out, nil
}

// templateIDs are the catalog's templates, by id, described by name.
func templateIDs(ctx context.Context, c *client.Client, _ string) ([]cobra.Completion, error) {
	l, err := c.ListTemplates(ctx, client.ListOptions{MaxResults: 200})
	if err != nil {
		return nil, err
	}
	out := make([]cobra.Completion, 0, len(l.Items))
	for _, t := range l.Items {
		out = append(out, cobra.CompletionWithDesc(t.ID, t.Name))
	}
	return out, nil
}

// extensionIDs are the extension requests waiting for review.
func extensionIDs(ctx context.Context, c *client.Client, _ string) ([]cobra.Completion, error) {
	l, err := c.ListExtensions(ctx, client.ListOptions{Where: `{"status":"REQUESTED"}`, MaxResults: 100})
	if err != nil {
		return nil, err
	}
	out := make([]cobra.Completion, 0, len(l.Items))
	for _, e := range l.Items {
		out = append(out, cobra.CompletionWithDesc(e.ID, "request "+e.ProvisionRequest))
	}
	return out, nil
}

// userIDs are users, by id, described by username.
func userIDs(ctx context.Context, c *client.Client, _ string) ([]cobra.Completion, error) {
	l, err := c.ListUsers(ctx, client.ListOptions{MaxResults: 200})
	if err != nil {
		return nil, err
	}
	out := make([]cobra.Completion, 0, len(l.Items))
	for _, u := range l.Items {
		out = append(out, cobra.CompletionWithDesc(u.ID, u.Username))
	}
	return out, nil
}

// roleNames are the roles that are not built in (the ones that may be
// changed or deleted), described by their description.
func roleNames(ctx context.Context, c *client.Client, _ string) ([]cobra.Completion, error) {
	l, err := c.ListRoles(ctx, client.ListOptions{Where: `{"built_in":false}`, MaxResults: 200})
	if err != nil {
		return nil, err
	}
	out := make([]cobra.Completion, 0, len(l.Items))
	for _, r := range l.Items {
		out = append(out, cobra.CompletionWithDesc(r.Role, r.Description))
	}
	return out, nil
}
