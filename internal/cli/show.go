package cli

import (
	"github.com/urfave/cli/v2"
)

func showCommand(st *cliState) *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "print a playbook's YAML as loaded",
		ArgsUsage: "NAME|FILE",
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 1, 1, "NAME|FILE"); err != nil {
				return err
			}
			pb, err := st.find(st.registry(c.Context, false), c.Args().First())
			if err != nil {
				return err
			}
			st.logf("# %s %s from %s (sha256 %s)", pb.Name, pb.Version, pb.Source, pb.SHA256)
			_, err = st.stdout.Write(pb.Raw)
			return err
		},
	}
}
