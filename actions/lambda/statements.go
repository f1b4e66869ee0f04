package lambda

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// statementsOf parses a function's resource policy.
func statementsOf(policy string) ([]map[string]any, error) {
	if policy == "" {
		return nil, nil
	}
	var doc struct {
		Statement []map[string]any
	}
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		return nil, fmt.Errorf("the function's policy is not JSON: %w", err)
	}
	return doc.Statement, nil
}

// principals are the principals a statement grants, as written: "*", an
// account id or ARN, or a service.
func principals(st map[string]any) (aws, service []string) {
	switch p := st["Principal"].(type) {
	case string:
		return []string{p}, nil
	case map[string]any:
		return strs(p["AWS"]), strs(p["Service"])
	}
	return nil, nil
}

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// accountOf is the account of an AWS principal ("123456789012",
// "arn:aws:iam::123456789012:root"), "" when it names none.
func accountOf(p string) string {
	if f := strings.Split(p, ":"); strings.HasPrefix(p, "arn:") && len(f) > 4 {
		return f[4]
	}
	return p
}

// grantsOutside says why a statement lets in anyone outside account:
// everyone ("*"), another account, or a whole organization; "" when it
// does not (the account itself, or a service).
func grantsOutside(st map[string]any, account string) string {
	awsPs, _ := principals(st)
	for _, p := range awsPs {
		if p == "*" {
			return "grants everyone"
		}
		if a := accountOf(p); a != account {
			return "grants account " + a
		}
	}
	if condition(st, "aws:PrincipalOrgID") != "" {
		return "grants organization " + condition(st, "aws:PrincipalOrgID")
	}
	return ""
}

// condition is the value of a condition key in any operator, the key
// compared without regard to case (Lambda writes AWS:SourceArn).
func condition(st map[string]any, key string) string {
	cond, _ := st["Condition"].(map[string]any)
	for _, op := range cond {
		m, _ := op.(map[string]any)
		for k, v := range m {
			if strings.EqualFold(k, key) {
				if s := strs(v); len(s) == 1 {
					return s[0]
				}
			}
		}
	}
	return ""
}

// knownConditions are the condition keys AddPermission can write back.
var knownConditions = []string{"aws:SourceArn", "aws:SourceAccount", "aws:PrincipalOrgID", "lambda:FunctionUrlAuthType",
	"lambda:EventSourceToken", "lambda:InvokedViaFunctionUrl"}

// permissionOf is the AddPermission call that writes st back on function,
// or why it cannot (a condition AddPermission has no parameter for).
func permissionOf(st map[string]any, function string) (*lambda.AddPermissionInput, error) {
	sid, _ := st["Sid"].(string)
	action := strs(st["Action"])
	awsPs, services := principals(st)
	ps := append(awsPs, services...)
	if sid == "" || len(action) != 1 || len(ps) != 1 {
		return nil, fmt.Errorf("statement %q: want one Sid, one action and one principal, as AddPermission writes them", sid)
	}
	in := &lambda.AddPermissionInput{FunctionName: aws.String(function), StatementId: aws.String(sid), Action: aws.String(action[0]), Principal: aws.String(ps[0])}
	cond, _ := st["Condition"].(map[string]any)
	for _, op := range cond {
		m, _ := op.(map[string]any)
		for k := range m {
			if !containsFold(knownConditions, k) && k != qualifierKey {
				return nil, fmt.Errorf("statement %q: condition key %q has no AddPermission parameter", sid, k)
			}
		}
	}
	set := func(key string, to **string) {
		if v := condition(st, key); v != "" {
			*to = aws.String(v)
		}
	}
	set("aws:SourceArn", &in.SourceArn)
	set("aws:SourceAccount", &in.SourceAccount)
	set("aws:PrincipalOrgID", &in.PrincipalOrgID)
	set("lambda:EventSourceToken", &in.EventSourceToken)
	auth := condition(st, "lambda:FunctionUrlAuthType")
	if s, ok := st["FunctionUrlAuthType"].(string); ok && auth == "" {
		auth = s // moto keeps it beside the condition
	}
	in.FunctionUrlAuthType = types.FunctionUrlAuthType(auth)
	if v := condition(st, "lambda:InvokedViaFunctionUrl"); v != "" {
		in.InvokedViaFunctionUrl = aws.Bool(v == "true")
	}
	if q, _ := st[qualifierKey].(string); q != "" {
		in.Qualifier = aws.String(q)
	} else if res, _ := st["Resource"].(string); strings.Count(res, ":") == 7 {
		in.Qualifier = aws.String(res[strings.LastIndex(res, ":")+1:])
	}
	return in, nil
}

func containsFold(list []string, s string) bool {
	for _, l := range list {
		if strings.EqualFold(l, s) {
			return true
		}
	}
	return false
}
