package s3

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/firebreak-ir/firebreak/internal/revoke"
)

// Sids of the statements contain-bucket adds. Every one starts with
// containSidPrefix, and release-bucket removes exactly the statements
// that do: the bucket's own statements are never touched.
const (
	containSidPrefix = "FirebreakContain"
	sidDenySuspects  = containSidPrefix + "DenySuspects"
	sidDenyAllBut    = containSidPrefix + "DenyAllButResponder"
	logGrantPrefix   = "FirebreakAccessLogsFrom" // on the log bucket, + a hash of the source bucket's name
)

// policyDoc is a bucket policy, parsed: its statements kept as they were
// written, so a policy put back is the policy taken.
type policyDoc struct {
	fields     map[string]any // Version, Id ...
	statements []any
}

func parsePolicy(s string) (*policyDoc, error) {
	d := &policyDoc{fields: map[string]any{}}
	if s == "" {
		return d, nil
	}
	if err := json.Unmarshal([]byte(s), &d.fields); err != nil {
		return nil, fmt.Errorf("the bucket policy is not JSON: %w", err)
	}
	switch st := d.fields["Statement"].(type) {
	case []any:
		d.statements = st
	case map[string]any:
		d.statements = []any{st}
	}
	delete(d.fields, "Statement")
	return d, nil
}

// without returns the statements whose Sid does not start with prefix.
func (d *policyDoc) without(prefix string) []any {
	var keep []any
	for _, s := range d.statements {
		if m, ok := s.(map[string]any); ok {
			if sid, _ := m["Sid"].(string); strings.HasPrefix(sid, prefix) {
				continue
			}
		}
		keep = append(keep, s)
	}
	return keep
}

// with returns the document's statements without those whose Sid starts
// with prefix, followed by add.
func (d *policyDoc) with(prefix string, add []any) []any {
	return append(d.without(prefix), add...)
}

// render is the policy with statements; "" when there are none (the
// policy is then deleted).
func (d *policyDoc) render(statements []any) (string, error) {
	if len(statements) == 0 {
		return "", nil
	}
	doc := map[string]any{}
	for k, v := range d.fields {
		doc[k] = v
	}
	if doc["Version"] == nil {
		doc["Version"] = "2012-10-17"
	}
	doc["Statement"] = statements
	b, err := json.Marshal(doc)
	return string(b), err
}

// sameStatements reports whether a and b are the same statements, in order.
func sameStatements(a, b []any) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

// bucketResources are a bucket and its objects, as a statement names them.
func bucketResources(bucket string) []any {
	arn := "arn:aws:s3:::" + bucket
	return []any{arn, arn + "/*"}
}

// principalPatterns are the aws:PrincipalArn patterns that match arn: an
// IAM user or role named without a path ("user/NAME", as findings give
// it) also matches NAME under any path ("user/*/NAME"), since
// aws:PrincipalArn carries the path and nothing else may match.
func principalPatterns(arns []string) []any {
	var out []any
	for _, arn := range arns {
		out = append(out, arn)
		for _, kind := range []string{":user/", ":role/"} {
			if head, name, ok := strings.Cut(arn, kind); ok && strings.HasPrefix(head, "arn:") && !strings.Contains(name, "/") {
				out = append(out, head+kind+"*/"+name)
			}
		}
	}
	return out
}

// responderARN is the IAM ARN aws:PrincipalArn gives for the run's
// caller: an assumed role's session is its role.
func responderARN(caller string) string {
	if head, rest, ok := strings.Cut(caller, ":assumed-role/"); ok {
		role, _, _ := strings.Cut(rest, "/")
		return strings.Replace(head, ":sts:", ":iam:", 1) + ":role/" + role
	}
	return caller
}

// denyStatements are the statements contain-bucket wants in the bucket
// policy: a deny of every S3 action on the bucket and its objects for the
// suspects, and, when asked, for everyone but the responder and the
// principals spared. Containment only adds: the suspects an earlier run
// denied stay denied, and an earlier deny-all stays unless this run
// writes its own.
func denyStatements(bucket string, current *policyDoc, suspects, allBut []string) []any {
	var out []any
	denied := union(patternsOf(current, sidDenySuspects), principalPatterns(suspects))
	if len(denied) > 0 {
		out = append(out, map[string]any{"Sid": sidDenySuspects, "Effect": "Deny", "Principal": "*", "Action": "s3:*",
			"Resource": bucketResources(bucket), "Condition": map[string]any{"ArnLike": map[string]any{"aws:PrincipalArn": denied}}})
	}
	if len(allBut) > 0 {
		out = append(out, map[string]any{"Sid": sidDenyAllBut, "Effect": "Deny", "Principal": "*", "Action": "s3:*",
			"Resource": bucketResources(bucket), "Condition": map[string]any{"ArnNotLike": map[string]any{"aws:PrincipalArn": principalPatterns(allBut)}}})
	} else if st := current.statement(sidDenyAllBut); st != nil {
		out = append(out, st)
	}
	// Statements go through JSON once, so they compare equal to the same
	// statements read back from S3.
	b, _ := json.Marshal(out)
	var norm []any
	_ = json.Unmarshal(b, &norm)
	return norm
}

// statement returns the statement with Sid sid, or nil.
func (d *policyDoc) statement(sid string) any {
	for _, s := range d.statements {
		if m, ok := s.(map[string]any); ok && m["Sid"] == sid {
			return s
		}
	}
	return nil
}

// patternsOf returns the aws:PrincipalArn patterns of statement sid.
func patternsOf(d *policyDoc, sid string) []any {
	m, _ := d.statement(sid).(map[string]any)
	cond, _ := m["Condition"].(map[string]any)
	for _, op := range cond {
		switch v := op.(map[string]any)["aws:PrincipalArn"].(type) {
		case []any:
			return v
		case string:
			return []any{v}
		}
	}
	return nil
}

// union is a followed by the values of b it lacks.
func union(a, b []any) []any {
	out := append([]any(nil), a...)
	for _, v := range b {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// logGrantSid names the log bucket's grant for source (Sids take letters
// and digits only; a hash keeps bucket names apart).
func logGrantSid(source string) string {
	h := sha256.Sum256([]byte(source))
	return logGrantPrefix + hex.EncodeToString(h[:6])
}

// logGrant is the statement S3 server access logging needs on the log
// bucket: the logging service may put objects under the prefix, for
// deliveries from source only.
func logGrant(logBucket, prefix, source string) []any {
	st := []any{map[string]any{"Sid": logGrantSid(source), "Effect": "Allow",
		"Principal": map[string]any{"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
		"Resource":  "arn:aws:s3:::" + logBucket + "/" + prefix + "*",
		"Condition": map[string]any{"ArnLike": map[string]any{"aws:SourceArn": "arn:aws:s3:::" + source}}}}
	b, _ := json.Marshal(st)
	var norm []any
	_ = json.Unmarshal(b, &norm)
	return norm
}

// actsAs reports whether the run's caller is one of the suspects: the
// deny would cut the run off from the bucket it is containing.
func actsAs(caller string, suspects []string) bool {
	for _, s := range suspects {
		if s == caller || responderARN(caller) == s {
			return true
		}
		if _, name, ok := strings.Cut(s, ":role/"); ok && revoke.ActsAsRole(caller, name[strings.LastIndex(name, "/")+1:]) {
			return true
		}
	}
	return false
}
