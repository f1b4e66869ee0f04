package lab

import (
	"errors"
	"fmt"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/firebreak-ir/firebreak/internal/bench"
	"github.com/firebreak-ir/firebreak/internal/cli"
)

// benchCommand prints the figures a responder cares about, each against a
// baseline measured in the same run, all on loopback (moto_server, sshd).
func benchCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "bench",
		Usage: "scheduler, isolation, fleet and memory-capture figures against same-run baselines (moto and sshd on 127.0.0.1)",
		Flags: []ucli.Flag{
			&ucli.IntFlag{Name: "fleet", Value: 20, Usage: "instances in the fleet runs"},
			&ucli.IntFlag{Name: "steps", Value: 10000, Usage: "no-op steps in the scheduler runs"},
			&ucli.StringSliceFlag{Name: "only", Usage: "run only the benchmark `NAME` (repeatable): " + strings.Join(bench.Names(), ", ")},
		},
		Action: func(c *ucli.Context) error {
			err := bench.Run(c.Context, bench.Options{Fleet: c.Int("fleet"), Steps: c.Int("steps"), Only: c.StringSlice("only")}, c.App.Writer)
			if errors.Is(err, bench.ErrUnknown) {
				return cli.UsageError(fmt.Errorf("--only: %w", err))
			}
			return err
		},
	}
}
