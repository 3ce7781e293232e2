package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/purserhq/purser/client"
)

func newTemplatesCmd(cli *env) *cobra.Command {
	cmd := &cobra.Command{Use: "templates", Aliases: []string{"template"}, Short: "The catalog of templates"}
	var lo client.ListOptions
	list := &cobra.Command{Use: "list", Short: "List templates", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			l, err := c.ListTemplates(cmd.Context(), lo)
			if err != nil {
				return err
			}
			return cli.render(l, func(w io.Writer) {
				head := []string{"ID", "NAME", "DRIVER", "TYPE", "TTL", "APPROVAL", "ACTIVE"}
				if cli.wide() {
					head = append(head, "REVISION", "PARAMETERS", "UPDATED", "DESCRIPTION")
				}
				row(w, head...)
				for _, t := range l.Items {
					drv := t.Driver
					if t.Simulated {
						drv += " (simulated)"
					}
					cols := []string{t.ID, t.Name, drv, t.ResourceType, hours(t.TTLDefaultHours) + " (max " + hours(t.TTLMaxHours) + ")",
						valueString(t.Approval["mode"]), yesNo(t.IsActive)}
					if cli.wide() {
						var names []string
						for _, p := range t.Params {
							if m, ok := p.(map[string]any); ok {
								names = append(names, valueString(m["name"]))
							}
						}
						cols = append(cols, strconv.Itoa(t.Revision), dash(strings.Join(names, ",")), when(t.Updated), dash(t.Description))
					}
					row(w, cols...)
				}
				pageFooter(w, l.Meta, len(l.Items))
			})
		}}
	listFlags(list, &lo, `{"driver":"sim","is_active":true}`, "name")
	get := &cobra.Command{Use: "get ID", Short: "Show a template", Args: cobra.ExactArgs(1), ValidArgsFunction: cli.completeFrom(templateIDs),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			t, err := c.GetTemplate(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return cli.view(t, func(w io.Writer) { templateView(w, t) })
		}}
	var file string
	create := &cobra.Command{Use: "create -f FILE", Short: "Add a template from a YAML or JSON file (devops, admins)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			var data []byte
			if file == "-" {
				data, err = io.ReadAll(cli.stdin)
			} else {
				data, err = os.ReadFile(file)
			}
			if err != nil {
				return err
			}
			var body map[string]any
			if err := yaml.Unmarshal(data, &body); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			t, err := c.CreateTemplate(cmd.Context(), body)
			if err != nil {
				return err
			}
			fmt.Fprintf(cli.stdout, "Template %s created (driver %s).\n", t.ID, t.Driver)
			return nil
		}}
	create.Flags().StringVarP(&file, "file", "f", "", "the template document, YAML or JSON (- for standard input)")
	_ = create.MarkFlagRequired("file")
	revisions := &cobra.Command{Use: "revisions ID", Short: "List a template's revisions, oldest first", Args: cobra.ExactArgs(1), ValidArgsFunction: cli.completeFrom(templateIDs),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			l, err := c.ListTemplateRevisions(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return cli.render(l, func(w io.Writer) {
				row(w, "REVISION", "MADE", "NAME", "DRIVER", "APPROVAL", "ACTIVE")
				for _, t := range l.Items {
					row(w, fmt.Sprint(t.Revision), when(t.Updated), t.Name, t.Driver,
						fmt.Sprint(t.Approval["mode"]), yesNo(t.IsActive))
				}
			})
		}}
	var patchFile, tname, tdesc, tetag string
	var active bool
	update := &cobra.Command{Use: "update ID [-f PATCH] [--name N] [--description D] [--active=false]",
		Short: "Change a template (devops, admins): a JSON merge patch from -f, and/or flags; requests already made keep their revision",
		Args:  cobra.ExactArgs(1), ValidArgsFunction: cli.completeFrom(templateIDs),
		Example: "  purser templates update dev-namespace --description 'A namespace for a day'\n" +
			"  purser templates update dev-namespace --active=false\n  purser templates update dev-namespace -f patch.yaml",
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			patch := map[string]any{}
			if patchFile != "" {
				data, err := readFileOrStdin(cli, patchFile)
				if err != nil {
					return err
				}
				if err := yaml.Unmarshal(data, &patch); err != nil {
					return fmt.Errorf("%s: %w", patchFile, err)
				}
			}
			if cmd.Flags().Changed("name") {
				patch["name"] = tname
			}
			if cmd.Flags().Changed("description") {
				patch["description"] = tdesc
			}
			if cmd.Flags().Changed("active") {
				patch["is_active"] = active
			}
			if len(patch) == 0 {
				return UsageError{fmt.Errorf("nothing to change: give -f PATCH, --name, --description or --active")}
			}
			t, err := c.UpdateTemplate(cmd.Context(), args[0], patch, tetag)
			if err != nil {
				return fieldFlags{"is_active": "--active"}.explain(err)
			}
			fmt.Fprintf(cli.stdout, "Template %s is now at revision %d.\n", t.ID, t.Revision)
			return nil
		}}
	uf := update.Flags()
	uf.StringVarP(&patchFile, "file", "f", "", "a JSON merge patch, YAML or JSON (- for standard input)")
	uf.StringVar(&tname, "name", "", "the template's name")
	uf.StringVar(&tdesc, "description", "", "what it makes")
	uf.BoolVar(&active, "active", true, "whether new requests may use it")
	uf.StringVar(&tetag, "if-match", "", "only if the template's _etag is still this")
	del := &cobra.Command{Use: "delete ID", Short: "Remove a template from the catalog (devops, admins)", Args: cobra.ExactArgs(1),
		ValidArgsFunction: cli.completeFrom(templateIDs),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cli.client()
			if err != nil {
				return err
			}
			if err := c.DeleteTemplate(cmd.Context(), args[0]); err != nil {
				return unsupported(err, "delete templates", "deactivate it instead: purser templates update "+args[0]+" --active=false")
			}
			fmt.Fprintf(cli.stdout, "Template %s deleted.\n", args[0])
			return nil
		}}
	cmd.AddCommand(list, get, create, revisions, update, del)
	return cmd
}

func readFileOrStdin(cli *env, name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(cli.stdin)
	}
	return os.ReadFile(name)
}
