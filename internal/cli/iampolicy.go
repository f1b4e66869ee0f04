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
			needs := playbookNeeds(reg, pb)
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

// playbookNeeds is every IAM action the playbook's actions declare,
// deduplicated and sorted, so the policy diffs cleanly between versions,
// and the grants that narrow some of them. A permission goes on "*" when
// an action needs it without a grant of its own covering it.
func playbookNeeds(reg *engine.Registry, pb *engine.Playbook) policyNeeds {
	var n policyNeeds
	for _, s := range pb.AllSteps() {
		a, ok := reg.Lookup(s.Action)
		if !ok {
			continue // the loader rejects unknown actions before this
		}
		spec := a.Spec()
		var granted []string
		for _, g := range spec.Grants {
			granted = append(granted, g.Actions...)
		}
		for _, p := range spec.Permissions {
			if !slices.Contains(n.all, p) {
				n.all = append(n.all, p)
			}
			if !slices.Contains(granted, p) && !slices.Contains(n.plain, p) {
				n.plain = append(n.plain, p)
			}
		}
		n.grants = append(n.grants, spec.Grants...)
	}
	sort.Strings(n.all)
	sort.Strings(n.plain)
	return n
}
