package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// newStackTagsCmd is `purser stacks tags`: the newest tags of a service's
// image, from its registry.
func newStackTagsCmd(cli *env) *cobra.Command {
	var limit int
	cmd := &cobra.Command{Use: "tags CLUSTER SERVICE [--limit N]", Short: "List the newest tags of a service's image, from its registry",
		Long: "The tags of the repository of the service's image in the cluster's current revision, newest first: from Amazon ECR\n" +
			"with an ecs cluster's credentials, or from any OCI registry, read anonymously (where PUSHED is when the image was\n" +
			"built). The server caches answers for a minute; when the registry fails it shows older ones, with a warning.",
		Example: "  purser stacks tags staging user-service\n  purser stacks tags staging user-service --limit 3 -o json",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 1 || limit > 100 {
				return UsageError{fmt.Errorf("--limit must be 1 to 100, not %d", limit)}
			}
			c, err := cli.client()
			if err != nil {
				return err
			}
			l, err := c.StackServiceTags(cmd.Context(), args[0], args[1], limit)
			if err != nil {
				return err
			}
			if l.Warning != "" && cli.tableOutput() {
				fmt.Fprintf(cli.stderr, "warning: %s\n", l.Warning)
			}
			return cli.render(l, func(w io.Writer) {
				row(w, "TAG", "PUSHED", "DIGEST")
				for _, tg := range l.Items {
					row(w, tg.Name, since(tg.Pushed), dash(shortDigest(tg.Digest)))
				}
			})
		}}
	cmd.Flags().IntVar(&limit, "limit", 10, "how many tags, 1 to 100")
	return cmd
}

// shortDigest is a digest as docker shows it: its first 12 hex digits.
func shortDigest(d string) string {
	_, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) < 12 {
		return d
	}
	return hex[:12]
}
