package assess

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// Exit codes of `firebreak assess` (SPEC §1, §7).
const (
	ExitOK         = 0
	ExitHighFailed = 1 // a high-severity check failed or could not run, or the account could not be read at all
	ExitUsage      = 2 // bad format, a --checks/--skip pattern that matches nothing
)

// Options are `firebreak assess`'s flags.
type Options struct {
	Format         string   // table (default), json, sarif
	Regions        []string // empty: every region enabled for the account (ec2:DescribeRegions)
	Checks, Skip   []string // ids or path.Match globs
	NoColor        bool
	Concurrency    int // checks running at once; 0: 8
	EvidenceBucket string
	ResponderRole  string
	Version        string // for SARIF's tool.driver.version
	// Env is the account to read; nil: NewEnv(Clients).
	Env     *Env
	Clients *awsapi.Clients
}

// UsageError is a mistake on the command line (exit 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Execute runs the selected checks and writes the report to stdout. It
// returns the exit code and, when it is not 0, an error saying why (not yet
// printed): a *UsageError for exit 2.
func Execute(ctx context.Context, o Options, stdout io.Writer) (int, error) {
	format := cmpOr(o.Format, "table")
	if !slices.Contains(Formats, format) {
		return ExitUsage, &UsageError{fmt.Errorf("unknown --format %q: want table, json or sarif", format)}
	}
	reg := NewRegistry()
	Register(reg)
	checks, err := reg.Select(o.Checks, o.Skip)
	if err != nil {
		return ExitUsage, &UsageError{err}
	}
	env := o.Env
	if env == nil {
		if o.Clients == nil {
			return ExitHighFailed, errors.New("assess: no AWS clients")
		}
		env = NewEnv(o.Clients)
	}
	env.EvidenceBucket = cmpOr(o.EvidenceBucket, env.EvidenceBucket)
	env.ResponderRole = cmpOr(o.ResponderRole, env.ResponderRole)
	regions := o.Regions
	if len(regions) == 0 {
		if regions, err = enabledRegions(ctx, env); err != nil {
			return ExitHighFailed, err
		}
	}
	rep := Assess(ctx, env, checks, regions, cmpOr(o.Concurrency, 8))
	color := !o.NoColor && os.Getenv("NO_COLOR") == "" && isTerminal(stdout)
	if err := Write(stdout, rep, format, WriteOptions{Color: color, Version: o.Version}); err != nil {
		return ExitHighFailed, fmt.Errorf("writing the report: %w", err)
	}
	if code := rep.ExitCode(); code != ExitOK {
		return code, fmt.Errorf("%d high-severity check result(s) failed, %d could not run", rep.Summary.HighFailed, rep.Summary.HighErrored)
	}
	return ExitOK, nil
}

// Run is Execute for a caller without a CLI library: it prints the error,
// if any, to stderr and returns the exit code.
func Run(ctx context.Context, o Options, stdout, stderr io.Writer) int {
	code, err := Execute(ctx, o, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "firebreak assess: %v\n", err)
	}
	return code
}

func enabledRegions(ctx context.Context, env *Env) ([]string, error) {
	out, err := env.EC2(env.HomeRegion).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		return nil, fmt.Errorf("listing enabled regions (pass --regions to skip this): %w", err)
	}
	var rs []string
	for _, r := range out.Regions {
		rs = append(rs, aws.ToString(r.RegionName))
	}
	sort.Strings(rs)
	return rs, nil
}

// SplitList splits comma-separated flag values, dropping blanks and
// repeats: `--regions a,b --regions c`.
func SplitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Command is `firebreak assess` for urfave/cli: clients gives the shared
// AWS clients, exit turns an error into one that ends the program with the
// given code (cmd/firebreak's withCode). --no-color is read from the global
// flag of the same name.
func Command(clients func(context.Context) *awsapi.Clients, exit func(code int, err error) error) *cli.Command {
	return &cli.Command{
		Name:  "assess",
		Usage: "read-only account readiness checks (S3, IAM, VPC, CloudTrail, GuardDuty, EBS, IR readiness)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "table", Usage: "table, json or sarif"},
			&cli.StringSliceFlag{Name: "regions", Usage: "regions to assess, comma-separated (default: every enabled region)"},
			&cli.StringSliceFlag{Name: "checks", Usage: "run only these check ids or globs (e.g. 's3.*'), comma-separated"},
			&cli.StringSliceFlag{Name: "skip", Usage: "skip these check ids or globs, comma-separated"},
			&cli.StringFlag{Name: "evidence-bucket", Usage: "the evidence bucket (default: the bucket tagged firebreak:evidence=true)"},
			&cli.StringFlag{Name: "responder-role", Value: DefaultResponderRole, Usage: "the IAM role responders assume"},
			&cli.IntFlag{Name: "concurrency", Value: 8, Usage: "checks run at once"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return exit(ExitUsage, fmt.Errorf("assess takes no arguments, got %q", c.Args().First()))
			}
			version, _ := c.App.Metadata["version"].(string)
			code, err := Execute(c.Context, Options{
				Format: c.String("format"), Regions: SplitList(c.StringSlice("regions")),
				Checks: SplitList(c.StringSlice("checks")), Skip: SplitList(c.StringSlice("skip")),
				NoColor: c.Bool("no-color"), Concurrency: c.Int("concurrency"),
				EvidenceBucket: c.String("evidence-bucket"), ResponderRole: c.String("responder-role"),
				Version: version, Clients: clients(c.Context),
			}, c.App.Writer)
			if code == ExitOK {
				return nil
			}
			return exit(code, err)
		},
	}
}
