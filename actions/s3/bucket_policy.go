package s3

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// tlsSid names the statement evidence-bucket adds, so a fix replaces its
// own statement instead of stacking copies.
const tlsSid = "FirebreakDenyInsecureTransport"

// readPolicy returns the bucket policy as a document with a Statement list,
// or an empty document when there is none.
func readPolicy(ctx context.Context, api bucketAPI, bucket string) (map[string]any, []any, error) {
	out, err := api.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	if awsapi.Code(err) == "NoSuchBucketPolicy" {
		return map[string]any{"Version": "2012-10-17"}, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(out.Policy)), &doc); err != nil {
		return nil, nil, fmt.Errorf("bucket policy is not JSON: %w", err)
	}
	switch st := doc["Statement"].(type) {
	case []any:
		return doc, st, nil
	case map[string]any:
		return doc, []any{st}, nil
	}
	return doc, nil, nil
}

func checkTLSOnly(ctx context.Context, api bucketAPI, b *bucketWant) (string, error) {
	_, stmts, err := readPolicy(ctx, api, b.name)
	if err != nil {
		return "", err
	}
	for _, s := range stmts {
		if m, ok := s.(map[string]any); ok && deniesInsecureTransport(m, b.name) {
			return "", nil
		}
	}
	return "no policy statement denies requests without TLS (aws:SecureTransport false)", nil
}

// deniesInsecureTransport reports whether statement s denies every S3
// action on the bucket and its objects to everyone when the request is not
// over TLS.
func deniesInsecureTransport(s map[string]any, bucket string) bool {
	if s["Effect"] != "Deny" || !anyOf(s["Principal"], "*") && !anyOf(principalAWS(s["Principal"]), "*") {
		return false
	}
	if !anyOf(s["Action"], "s3:*", "*") {
		return false
	}
	arn := "arn:aws:s3:::" + bucket
	if !anyOf(s["Resource"], "*") && !(anyOf(s["Resource"], arn) && anyOf(s["Resource"], arn+"/*")) {
		return false
	}
	cond, _ := s["Condition"].(map[string]any)
	op, _ := cond["Bool"].(map[string]any)
	v := op["aws:SecureTransport"]
	return v == false || anyOf(v, "false")
}

func principalAWS(p any) any {
	m, _ := p.(map[string]any)
	return m["AWS"]
}

// anyOf reports whether v, a string or a list of strings as IAM allows,
// holds one of want.
func anyOf(v any, want ...string) bool {
	switch x := v.(type) {
	case string:
		return slices.Contains(want, x)
	case []any:
		for _, it := range x {
			if s, ok := it.(string); ok && slices.Contains(want, s) {
				return true
			}
		}
	}
	return false
}

// applyTLSOnly adds the deny-without-TLS statement to the bucket policy,
// keeping every other statement.
func applyTLSOnly(ctx context.Context, api bucketAPI, b *bucketWant) error {
	doc, stmts, err := readPolicy(ctx, api, b.name)
	if err != nil {
		return err
	}
	arn := "arn:aws:s3:::" + b.name
	keep := stmts[:0:0]
	for _, s := range stmts {
		if m, ok := s.(map[string]any); !ok || m["Sid"] != tlsSid {
			keep = append(keep, s)
		}
	}
	doc["Statement"] = append(keep, map[string]any{
		"Sid": tlsSid, "Effect": "Deny", "Principal": "*", "Action": "s3:*",
		"Resource":  []any{arn, arn + "/*"},
		"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
	})
	if doc["Version"] == nil {
		doc["Version"] = "2012-10-17"
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = api.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b.name), Policy: aws.String(string(data))})
	return err
}
