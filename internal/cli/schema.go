package cli

import (
	"fmt"
	"io/fs"

	"github.com/urfave/cli/v2"

	"github.com/firebreak-ir/firebreak/schemas"
)

func schemaCommand(st *cliState) *cli.Command {
	return &cli.Command{
		Name:      "schema",
		Usage:     "print a JSON Schema: playbook (for editors) or manifest",
		ArgsUsage: "[playbook|manifest]",
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 0, 1, "[playbook|manifest]"); err != nil {
				return err
			}
			which := c.Args().First()
			if which == "" {
				which = "playbook"
			}
			if which != "playbook" && which != "manifest" {
				return usageErrorf("no schema %q: want playbook or manifest", which)
			}
			data, err := fs.ReadFile(schemas.FS, which+".schema.json")
			if err != nil {
				return fmt.Errorf("schema %q is not in this build: %w", which, err)
			}
			_, err = st.stdout.Write(data)
			return err
		},
	}
}
