package cli

import (
	"slices"
	"sort"
	"strings"

	"github.com/firebreak-ir/firebreak/engine"
)

// policyStatement is one IAM policy statement. Resource is a string or a
// list of strings, as IAM takes either.
type policyStatement struct {
	Sid       string                       `json:"Sid"`
	Effect    string                       `json:"Effect"`
	Action    []string                     `json:"Action"`
	Resource  any                          `json:"Resource"`
	Condition map[string]map[string]string `json:"Condition,omitempty"`
}

type policyDocument struct {
	Version   string            `json:"Version"`
	Statement []policyStatement `json:"Statement"`
}

// evidenceStore is the S3 evidence store iam-policy --evidence grants.
type evidenceStore struct{ bucket, prefix string }

// policyNeeds is what a playbook's actions need of IAM: the permissions
// that go on "*" and the grants, narrowed, that the actions' specs declare.
type policyNeeds struct {
	all    []string       // every permission, sorted
	plain  []string       // those no grant of the action needing them covers, sorted
	grants []engine.Grant // in step order, repeats included
}

// iamPolicy is the policy for a playbook's needs, and with store the
// evidence store's. Ordinary calls go on "*" (describe calls take no
// resource, and the instances are not known in advance); what the actions
// declare as grants gets statements of its own, one per Statement name.
func iamPolicy(name string, needs policyNeeds, store *evidenceStore) policyDocument {
	doc := policyDocument{Version: "2012-10-17", Statement: []policyStatement{}}
	if len(needs.plain) > 0 {
		doc.Statement = append(doc.Statement, policyStatement{Sid: sid(name), Effect: "Allow", Action: needs.plain, Resource: "*"})
	}
	doc.Statement = append(doc.Statement, grantStatements(needs.grants)...)
	if len(needs.all) > 0 {
		// plan --check and run --dry-run simulate the caller's own
		// policies; without this they say the permissions were not checked.
		doc.Statement = append(doc.Statement, policyStatement{Sid: "FirebreakPlanCheckSimulatesOwnPolicies", Effect: "Allow",
			Action: []string{"iam:SimulatePrincipalPolicy"}, Resource: []string{"arn:aws:iam::*:role/*", "arn:aws:iam::*:user/${aws:username}"}})
	}
	if store != nil {
		doc.Statement = append(doc.Statement, store.statements()...)
	}
	return doc
}

// grantStatements merges the grants by Statement, sorted by it so the
// policy does not depend on step order: actions sorted, each once; the
// resources of every grant, each once (the steps of one action narrowed
// to different resources share the statement); the Sid
// names the reasons of the actions that need it, in step order.
func grantStatements(grants []engine.Grant) []policyStatement {
	byName := map[string]*policyStatement{}
	var names []string
	reasons, res := map[string][]string{}, map[string][]string{}
	for _, g := range grants {
		st, ok := byName[g.Statement]
		if !ok {
			st = &policyStatement{Effect: "Allow", Condition: g.Condition}
			byName[g.Statement] = st
			names = append(names, g.Statement)
		}
		for _, r := range g.Resource { // steps narrowed apart: all their resources
			if !slices.Contains(res[g.Statement], r) {
				res[g.Statement] = append(res[g.Statement], r)
			}
		}
		for _, a := range g.Actions {
			if !slices.Contains(st.Action, a) {
				st.Action = append(st.Action, a)
			}
		}
		if g.Reason != "" && !slices.Contains(reasons[g.Statement], g.Reason) {
			reasons[g.Statement] = append(reasons[g.Statement], g.Reason)
		}
	}
	sort.Strings(names)
	out := make([]policyStatement, 0, len(names))
	for _, n := range names {
		st := byName[n]
		sort.Strings(st.Action)
		st.Resource = resource(res[n])
		st.Sid = "Firebreak" + n
		if r := reasons[n]; len(r) > 0 {
			st.Sid += "To" + strings.Join(r, "And")
		}
		out = append(out, *st)
	}
	return out
}

// resource is one ARN as a string, several as a list, as IAM writes them.
func resource(arns []string) any {
	if len(arns) == 1 {
		return arns[0]
	}
	return arns
}

// statements grant the S3 evidence store what store/s3store does: write
// and read objects (multipart for large ones, versions and retention for
// verify), delete only case leases (CASE/.lock), and read the bucket's
// Object Lock set-up. s3:ListBucket lets a missing key read as 404, not
// 403, which the store relies on.
func (e *evidenceStore) statements() []policyStatement {
	bucket := "arn:aws:s3:::" + e.bucket
	under := bucket + "/"
	if e.prefix != "" {
		under += e.prefix + "/"
	}
	return []policyStatement{
		{Sid: "FirebreakEvidenceObjects", Effect: "Allow", Resource: under + "*", Action: []string{
			"s3:AbortMultipartUpload", "s3:GetObject", "s3:GetObjectRetention", "s3:GetObjectVersion", "s3:PutObject"}},
		{Sid: "FirebreakEvidenceCaseLeases", Effect: "Allow", Action: []string{"s3:DeleteObject"}, Resource: under + "*/.lock"},
		{Sid: "FirebreakEvidenceBucket", Effect: "Allow", Resource: bucket, Action: []string{
			"s3:GetBucketLocation", "s3:GetBucketObjectLockConfiguration", "s3:GetBucketVersioning", "s3:ListBucket"}},
	}
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
