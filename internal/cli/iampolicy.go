package cli

import (
	"encoding/json"
	"slices"
	"sort"

	"github.com/urfave/cli/v2"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/store/s3store"
)

func iamPolicyCommand(st *cliState) *cli.Command {
	return &cli.Command{
		Name:      "iam-policy",
		Usage:     "print the least-privilege IAM policy (JSON) a playbook needs",
		ArgsUsage: "NAME|FILE",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "evidence", Usage: "also grant the S3 evidence store at s3://`BUCKET/PREFIX` (that bucket and prefix only)"},
		},
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 1, 1, "NAME|FILE [--evidence s3://BUCKET/PREFIX]"); err != nil {
				return err
			}
			var store *evidenceStore
			if uri := c.String("evidence"); uri != "" {
				bucket, prefix, err := s3store.ParseURI(uri)
				if err != nil {
					return usageErrorf("--evidence: %v (a local directory needs no IAM permission)", err)
				}
				store = &evidenceStore{bucket: bucket, prefix: prefix}
			}
			reg := st.registry(c.Context, false)
			pb, err := st.find(reg, c.Args().First())
			if err != nil {
				return err
			}
			var ev engine.IAMEvidence
			if store != nil {
				ev = engine.IAMEvidence{Bucket: store.bucket, Prefix: store.prefix}
			}
			needs := playbookNeeds(reg, pb, ev)
			if len(needs.all) == 0 && store == nil {
				st.logf("playbook %q calls no AWS API: the policy allows nothing", pb.Name)
			}
			var noted []string
			for _, g := range needs.grants {
				if g.Note != "" && !slices.Contains(noted, g.Note) {
					noted = append(noted, g.Note)
					st.logf("%s", g.Note)
				}
			}
			enc := json.NewEncoder(st.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(iamPolicy(pb.Name, needs, store))
		},
	}
}

// playbookNeeds is every IAM action the playbook's steps need, deduplicated
// and sorted, so the policy diffs cleanly between versions, and the grants
// that narrow some of them. A step's needs are its action's spec, narrowed
// by the action for that step when it can say more (engine.StepIAMer: the
// literal parameters, the evidence location). A permission goes on "*"
// when a step needs it without a grant of its own covering it.
func playbookNeeds(reg *engine.Registry, pb *engine.Playbook, ev engine.IAMEvidence) policyNeeds {
	var n policyNeeds
	for _, s := range pb.AllSteps() {
		a, ok := reg.Lookup(s.Action)
		if !ok {
			continue // the loader rejects unknown actions before this
		}
		spec := a.Spec()
		perms, grants := spec.Permissions, spec.Grants
		if x, ok := a.(engine.StepIAMer); ok {
			narrow := x.StepIAM(writtenParams(s, spec), ev)
			perms = slices.DeleteFunc(slices.Clone(perms), func(p string) bool { return slices.Contains(narrow.Drop, p) })
			if narrow.Grants != nil {
				grants = narrow.Grants
			}
		}
		var granted []string
		for _, g := range grants {
			granted = append(granted, g.Actions...)
		}
		for _, p := range perms {
			if !slices.Contains(n.all, p) {
				n.all = append(n.all, p)
			}
			if !slices.Contains(granted, p) && !slices.Contains(n.plain, p) {
				n.plain = append(n.plain, p)
			}
		}
		for _, g := range grants {
			// A grant of a permission the step dropped is no grant.
			g.Actions = slices.DeleteFunc(slices.Clone(g.Actions), func(a string) bool { return !slices.Contains(perms, a) })
			if len(g.Actions) > 0 {
				n.grants = append(n.grants, g)
			}
		}
	}
	sort.Strings(n.all)
	sort.Strings(n.plain)
	return n
}

// writtenParams are a step's parameters as the playbook writes them, for
// any inputs: a value with no expression in it, coerced to its declared
// type; an engine.Unknown for a value an expression decides (even from the
// inputs alone: the policy holds for every run); a parameter not written
// is absent.
func writtenParams(s *engine.Step, spec engine.ActionSpec) engine.Params {
	out := engine.Params{}
	for name, v := range s.With {
		if len(v.Exprs()) > 0 {
			out[name] = engine.Unknown{Expr: "(an expression)"}
			continue
		}
		val, err := v.Eval(&engine.Env{})
		if err != nil {
			out[name] = engine.Unknown{Expr: "(an expression)"}
			continue
		}
		if p, ok := spec.Param(name); ok && val != nil {
			if c, err := engine.Coerce(p.Type, val); err == nil {
				val = c
			}
		}
		out[name] = val
	}
	return out
}
