package main

import (
	"encoding/json"
	"sort"

	"github.com/urfave/cli/v2"

	"github.com/firebreak-ir/firebreak/engine"
)

func iamPolicyCommand(st *cliState) *cli.Command {
	return &cli.Command{
		Name:      "iam-policy",
		Usage:     "print the least-privilege IAM policy (JSON) a playbook needs",
		ArgsUsage: "NAME|FILE",
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 1, 1, "NAME|FILE"); err != nil {
				return err
			}
			reg := st.registry(c.Context, false)
			pb, err := st.find(reg, c.Args().First())
			if err != nil {
				return err
			}
			perms := playbookPermissions(reg, pb)
			if len(perms) == 0 {
				st.logf("playbook %q calls no AWS API: the policy allows nothing", pb.Name)
			}
			enc := json.NewEncoder(st.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(iamPolicy(pb.Name, perms))
		},
	}
}

// playbookPermissions is every IAM action the playbook's actions declare,
// deduplicated and sorted, so the policy diffs cleanly between versions.
func playbookPermissions(reg *engine.Registry, pb *engine.Playbook) []string {
	seen := map[string]bool{}
	var perms []string
	for _, s := range pb.AllSteps() {
		a, ok := reg.Lookup(s.Action)
		if !ok {
			continue // the loader rejects unknown actions before this
		}
		for _, p := range a.Spec().Permissions {
			if !seen[p] {
				seen[p] = true
				perms = append(perms, p)
			}
		}
	}
	sort.Strings(perms)
	return perms
}

type policyStatement struct {
	Sid      string   `json:"Sid"`
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource string   `json:"Resource"`
}

type policyDocument struct {
	Version   string            `json:"Version"`
	Statement []policyStatement `json:"Statement"`
}

func iamPolicy(name string, perms []string) policyDocument {
	doc := policyDocument{Version: "2012-10-17", Statement: []policyStatement{}}
	if len(perms) > 0 {
		doc.Statement = append(doc.Statement, policyStatement{Sid: sid(name), Effect: "Allow", Action: perms, Resource: "*"})
	}
	return doc
}

// sid makes an IAM statement id (alphanumeric only) from a playbook name.
func sid(name string) string {
	out := []byte("Firebreak")
	up := true
	for _, c := range []byte(name) {
		switch {
		case c >= 'a' && c <= 'z':
			if up {
				c -= 'a' - 'A'
			}
			out, up = append(out, c), false
		case c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
			out, up = append(out, c), false
		default:
			up = true
		}
	}
	return string(out)
}
