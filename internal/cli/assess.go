package cli

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/firebreak-ir/firebreak/assess"
)

// assessCommand is `firebreak assess`: assess runs the checks and returns
// the report; this renders it and turns it into the exit code (1 when a
// high-severity check failed or could not run).
func assessCommand(st *cliState) *cli.Command {
	return &cli.Command{
		Name:  "assess",
		Usage: "read-only account readiness checks (S3, IAM, VPC, CloudTrail, GuardDuty, EBS, IR readiness)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "table", Usage: "table, json or sarif"},
			&cli.StringSliceFlag{Name: "regions", Usage: "regions to assess, comma-separated (default: every enabled region)"},
			&cli.StringSliceFlag{Name: "checks", Usage: "run only these check ids or globs (e.g. 's3.*'), comma-separated"},
			&cli.StringSliceFlag{Name: "skip", Usage: "skip these check ids or globs, comma-separated"},
			&cli.StringFlag{Name: "evidence-bucket", Usage: "the evidence bucket (default: the bucket tagged firebreak:evidence=true)"},
			&cli.StringFlag{Name: "responder-role", Value: assess.DefaultResponderRole, Usage: "the IAM role responders assume"},
			&cli.IntFlag{Name: "concurrency", Value: 8, Usage: "checks run at once"},
			&cli.BoolFlag{Name: "all", Usage: "table: list the passes too (else each family counts them)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("assess takes no arguments, got %q", c.Args().First())
			}
			format := c.String("format")
			if !slices.Contains(assess.Formats, format) {
				return usageErrorf("unknown --format %q: want table, json or sarif", format)
			}
			rep, err := assess.Run(c.Context, assess.Options{
				Regions: assess.SplitList(c.StringSlice("regions")),
				Checks:  assess.SplitList(c.StringSlice("checks")), Skip: assess.SplitList(c.StringSlice("skip")),
				Concurrency: c.Int("concurrency"), EvidenceBucket: c.String("evidence-bucket"),
				ResponderRole: c.String("responder-role"), Clients: st.awsClients(c.Context),
			})
			if _, usage := errors.AsType[*assess.UsageError](err); usage {
				return withCode(exitUsage, err)
			} else if err != nil {
				return withCode(exitFailed, err)
			}
			version, _ := buildVersion()
			color := !st.noColor && os.Getenv("NO_COLOR") == "" && isTerminal(st.stdout)
			if err := assess.Write(st.stdout, rep, format, assess.WriteOptions{Color: color, Version: version, All: c.Bool("all")}); err != nil {
				return withCode(exitFailed, fmt.Errorf("writing the report: %w", err))
			}
			return withCode(rep.ExitCode(), rep.Err())
		},
	}
}
