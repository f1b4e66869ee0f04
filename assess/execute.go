package assess

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// Exit codes of `firebreak assess` (README "Command line").
const (
	ExitOK         = 0
	ExitHighFailed = 1 // a high-severity check failed or could not run, or the account could not be read at all
	ExitUsage      = 2 // bad format, a --checks/--skip pattern that matches nothing
)

// Options choose what Run checks and where.
type Options struct {
	Regions        []string // empty: every region enabled for the account (ec2:DescribeRegions)
	Checks, Skip   []string // ids or path.Match globs
	Concurrency    int      // checks running at once; 0: 8
	EvidenceBucket string
	ResponderRole  string
	// Env is the account to read; nil: NewEnv(Clients).
	Env     *Env
	Clients *awsapi.Clients
}

// UsageError is a mistake in what was asked (exit 2): a --checks or --skip
// pattern that matches nothing or does not parse.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Run runs the selected checks and returns the report; rendering it (Write)
// and the exit code (Report.ExitCode) are the caller's. The error is a
// *UsageError for a bad selection, or says why the account could not be
// read at all; a check that could not run is a result, not an error.
func Run(ctx context.Context, o Options) (*Report, error) {
	reg := NewRegistry()
	Register(reg)
	checks, err := reg.Select(o.Checks, o.Skip)
	if err != nil {
		return nil, &UsageError{err}
	}
	env := o.Env
	if env == nil {
		if o.Clients == nil {
			return nil, errors.New("assess: no AWS clients")
		}
		env = NewEnv(o.Clients)
	}
	env.EvidenceBucket = cmpOr(o.EvidenceBucket, env.EvidenceBucket)
	env.ResponderRole = cmpOr(o.ResponderRole, env.ResponderRole)
	regions := o.Regions
	if len(regions) == 0 {
		if regions, err = enabledRegions(ctx, env); err != nil {
			return nil, err
		}
	}
	return Assess(ctx, env, checks, regions, cmpOr(o.Concurrency, 8)), nil
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

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
