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
			perms, writers := playbookPermissions(reg, pb)
			if len(perms) == 0 && store == nil {
				st.logf("playbook %q calls no AWS API: the policy allows nothing", pb.Name)
			}
			if slices.Contains(perms, "iam:PassRole") {
				st.logf("iam:PassRole is granted on roles named firebreak-* only: restoring an instance's own profile (release) or a replacement_profile with another role needs iam:PassRole on that role too")
			}
			enc := json.NewEncoder(st.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(iamPolicy(pb.Name, perms, writers, store))
		},
	}
}

// playbookPermissions is every IAM action the playbook's actions declare,
// deduplicated and sorted, so the policy diffs cleanly between versions;
// writers are the actions that need an inline-policy write, in step order.
func playbookPermissions(reg *engine.Registry, pb *engine.Playbook) (perms, writers []string) {
	seen := map[string]bool{}
	for _, s := range pb.AllSteps() {
		a, ok := reg.Lookup(s.Action)
		if !ok {
			continue // the loader rejects unknown actions before this
		}
		for _, p := range a.Spec().Permissions {
			if slices.Contains(inlinePolicyWrites, p) && !slices.Contains(writers, s.Action) {
				writers = append(writers, s.Action)
			}
			if !seen[p] {
				seen[p] = true
				perms = append(perms, p)
			}
		}
	}
	sort.Strings(perms)
	return perms, writers
}
