package cli

import (
	"slices"
	"strings"
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

// inlinePolicyWrites can grant anything to the principal they write to (an
// escalation path), so they get a statement of their own whose Sid says
// why the playbook needs them (writeReasons).
var inlinePolicyWrites = []string{"iam:DeleteRolePolicy", "iam:DeleteUserPolicy", "iam:PutRolePolicy", "iam:PutUserPolicy"}

// writeReasons says, per action, why it writes inline policies: the deny
// that revokes older sessions, or the workstation role's evidence read.
var writeReasons = map[string]string{
	"isolate": "RevokeSessions", "revoke-sessions": "RevokeSessions", "disable-key": "RevokeSessions",
	"create-workstation": "LetWorkstationReadEvidence",
}

// writesSid is the Sid of the inline-policy statement: the reasons of the
// actions that need it, in order, each once.
func writesSid(writers []string) string {
	var reasons []string
	for _, w := range writers {
		r, ok := writeReasons[w]
		if !ok {
			r = sid(w)[len("Firebreak"):]
		}
		if !slices.Contains(reasons, r) {
			reasons = append(reasons, r)
		}
	}
	if len(reasons) == 0 {
		return "FirebreakInlinePolicyWrites"
	}
	return "FirebreakInlinePolicyWritesTo" + strings.Join(reasons, "And")
}

// passRoleResource is the roles firebreak makes (create-workstation's
// firebreak-workstation-CASE): only those may be passed, and only to EC2.
const passRoleResource = "arn:aws:iam::*:role/firebreak-*"

// iamPolicy is the policy for a playbook's permissions, and with store the
// evidence store's. Ordinary calls go on "*" (describe calls take no
// resource, and the instances are not known in advance); iam:PassRole and
// the inline-policy writes are split out and narrowed.
func iamPolicy(name string, perms, writers []string, store *evidenceStore) policyDocument {
	doc := policyDocument{Version: "2012-10-17", Statement: []policyStatement{}}
	var plain, writes []string
	pass := false
	for _, p := range perms {
		switch {
		case p == "iam:PassRole":
			pass = true
		case slices.Contains(inlinePolicyWrites, p):
			writes = append(writes, p)
		default:
			plain = append(plain, p)
		}
	}
	add := func(s policyStatement) { doc.Statement = append(doc.Statement, s) }
	if len(plain) > 0 {
		add(policyStatement{Sid: sid(name), Effect: "Allow", Action: plain, Resource: "*"})
	}
	if len(writes) > 0 {
		add(policyStatement{Sid: writesSid(writers), Effect: "Allow", Action: writes,
			Resource: []string{"arn:aws:iam::*:role/*", "arn:aws:iam::*:user/*"}})
	}
	if pass {
		add(policyStatement{Sid: "FirebreakPassOwnRolesToEC2", Effect: "Allow", Action: []string{"iam:PassRole"},
			Resource: passRoleResource, Condition: map[string]map[string]string{"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}})
	}
	if len(perms) > 0 {
		// plan --check and run --dry-run simulate the caller's own
		// policies; without this they say the permissions were not checked.
		add(policyStatement{Sid: "FirebreakPlanCheckSimulatesOwnPolicies", Effect: "Allow", Action: []string{"iam:SimulatePrincipalPolicy"},
			Resource: []string{"arn:aws:iam::*:role/*", "arn:aws:iam::*:user/${aws:username}"}})
	}
	if store != nil {
		doc.Statement = append(doc.Statement, store.statements()...)
	}
	return doc
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
