package assess

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"

	"golang.org/x/sync/errgroup"
)

// ErrNoMatch: a --checks or --skip pattern names no registered check.
var ErrNoMatch = errors.New("no check matches")

// Select returns the checks whose id matches a pattern of include (every
// check when include is empty) and no pattern of skip, sorted by id.
// Patterns are ids or path.Match globs ("s3.*", "iam.user.*"). A pattern
// that is malformed or matches no check is an error wrapping ErrNoMatch:
// a typo must not silently assess nothing.
func (r *Registry) Select(include, skip []string) ([]*Check, error) {
	ids := r.IDs()
	in, err := matching(ids, include)
	if err != nil {
		return nil, err
	}
	out, err := matching(ids, skip)
	if err != nil {
		return nil, err
	}
	var sel []*Check
	for _, id := range ids {
		if (len(include) == 0 || in[id]) && !out[id] {
			sel = append(sel, r.checks[id])
		}
	}
	return sel, nil
}

func matching(ids, patterns []string) (map[string]bool, error) {
	hit := map[string]bool{}
	for _, p := range patterns {
		n := 0
		for _, id := range ids {
			ok, err := path.Match(p, id)
			if err != nil {
				return nil, fmt.Errorf("check pattern %q: %w: %w", p, ErrNoMatch, err)
			}
			if ok {
				hit[id] = true
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("check pattern %q: %w (see the ids with --format json or in the table)", p, ErrNoMatch)
		}
	}
	return hit, nil
}

// task is one check in one region ("" for a global check).
type task struct {
	check  *Check
	region string
}

// Assess runs every check once (Global) or in each of regions (Regional), at
// most limit at a time, and returns their results sorted by check id,
// region and resource. It only reads the account. A check that panics
// gives an error result, never a missing one.
func Assess(ctx context.Context, env *Env, checks []*Check, regions []string, limit int) *Report {
	env.regions = regions
	var tasks []task
	for _, c := range checks {
		if c.Scope == Global {
			tasks = append(tasks, task{check: c})
			continue
		}
		for _, r := range regions {
			tasks = append(tasks, task{check: c, region: r})
		}
	}
	out := make([][]Result, len(tasks))
	var g errgroup.Group
	g.SetLimit(max(1, limit))
	for i, t := range tasks {
		g.Go(func() error {
			out[i] = runTask(ctx, env, t)
			return nil
		})
	}
	_ = g.Wait()
	var results []Result
	for _, rs := range out {
		results = append(results, rs...)
	}
	return newReport(checks, regions, results)
}

func runTask(ctx context.Context, env *Env, t task) (rs []Result) {
	defer func() {
		if p := recover(); p != nil {
			rs = []Result{{Status: Error, Resource: "check", Reason: fmt.Sprintf("check %q panicked: %v", t.check.ID, p)}}
			fill(rs, t)
		}
	}()
	rs = t.check.Run(ctx, env, t.region)
	fill(rs, t)
	return rs
}

// fill stamps the check's identity on its results, so checks only say
// what they found.
func fill(rs []Result, t task) {
	for i := range rs {
		rs[i].CheckID, rs[i].Title, rs[i].Family, rs[i].Severity = t.check.ID, t.check.Title, t.check.Family, t.check.Severity
		if rs[i].Region == "" {
			rs[i].Region = t.region
		}
		if rs[i].Region == "" {
			rs[i].Region = GlobalRegion
		}
	}
}

func sortResults(rs []Result) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if a.CheckID != b.CheckID {
			return a.CheckID < b.CheckID
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		return a.Resource < b.Resource
	})
}

// each calls f(i) for i in [0, n), at most limit at once, and waits.
func each(n, limit int, f func(i int)) {
	var g errgroup.Group
	g.SetLimit(max(1, limit))
	for i := range n {
		g.Go(func() error { f(i); return nil })
	}
	_ = g.Wait()
}
