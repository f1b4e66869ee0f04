package lambda

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/enginetest"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awstest"
)

type fnWorld struct {
	e   *awstest.Env
	api *lambda.Client
	reg *engine.Registry
	arn string
	url string
}

func codeZip(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	w, _ := z.Create("index.py")
	w.Write([]byte("def handler(event, context):\n    return 'beacon'\n"))
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// newFnWorld makes function invoice-render with reserved concurrency 5, a
// public function URL (and the permission it needs), a grant to another
// account and a grant to S3 from the account's own bucket.
func newFnWorld(t *testing.T) *fnWorld {
	t.Helper()
	e := awstest.Start(t)
	ctx := awstest.Ctx(t)
	role, err := iam.NewFromConfig(e.Direct).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("invoice-render-role"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	api := lambda.NewFromConfig(e.Direct)
	fn, err := api.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("invoice-render"), Runtime: types.RuntimePython312,
		Role: role.Role.Arn, Handler: aws.String("index.handler"), Code: &types.FunctionCode{ZipFile: codeZip(t)}, Tags: map[string]string{"app": "billing"}})
	if err != nil {
		t.Fatal(err)
	}
	w := &fnWorld{e: e, api: api, arn: aws.ToString(fn.FunctionArn)}
	steps := []func() error{
		func() error {
			_, err := api.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("invoice-render"), ReservedConcurrentExecutions: aws.Int32(5)})
			return err
		},
		func() error {
			u, err := api.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String("invoice-render"), AuthType: types.FunctionUrlAuthTypeNone})
			if err == nil {
				w.url = aws.ToString(u.FunctionUrl)
			}
			return err
		},
		func() error {
			_, err := api.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("invoice-render"), StatementId: aws.String("FunctionURLAllowPublicAccess"),
				Action: aws.String("lambda:InvokeFunctionUrl"), Principal: aws.String("*"), FunctionUrlAuthType: types.FunctionUrlAuthTypeNone})
			return err
		},
		func() error {
			_, err := api.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("invoice-render"), StatementId: aws.String("partner"),
				Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("arn:aws:iam::999988887777:root")})
			return err
		},
		func() error {
			_, err := api.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("invoice-render"), StatementId: aws.String("uploads"),
				Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com"), SourceArn: aws.String("arn:aws:s3:::invoices"),
				SourceAccount: aws.String("123456789012")})
			return err
		},
	}
	for _, s := range steps {
		if err := s(); err != nil {
			t.Fatal(err)
		}
	}
	w.reg = engine.NewRegistry()
	Register(w.reg, e.Clients)
	return w
}

// fnLive is a function's state read back through the SDK.
type fnLive struct {
	concurrency *int32
	auth        types.FunctionUrlAuthType
	url         string
	sids        []string // "sid principal"
	tags        map[string]string
}

func (w *fnWorld) read(t *testing.T) fnLive {
	t.Helper()
	ctx := awstest.Ctx(t)
	var l fnLive
	c, err := w.api.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(w.arn)})
	if err != nil {
		t.Fatal(err)
	}
	l.concurrency = c.ReservedConcurrentExecutions
	u, err := w.api.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: aws.String(w.arn)})
	if err != nil {
		t.Fatal(err)
	}
	l.auth, l.url = u.AuthType, aws.ToString(u.FunctionUrl)
	if p, err := w.api.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(w.arn)}); err == nil {
		sts, _ := statementsOf(aws.ToString(p.Policy))
		for _, st := range sts {
			a, s := principals(st)
			l.sids = append(l.sids, st["Sid"].(string)+" "+strings.Join(append(a, s...), ","))
		}
		sort.Strings(l.sids)
	}
	tg, err := w.api.ListTags(ctx, &lambda.ListTagsInput{Resource: aws.String(w.arn)})
	if err != nil {
		t.Fatal(err)
	}
	l.tags = tg.Tags
	return l
}

// TestContainFunction: contain-function records the function, its policy
// and URLs, then stops its invocations (reserved concurrency 0), puts its
// public URL behind IAM (same address) and removes the grants to everyone
// and to another account, keeping the account's own S3 grant; read back
// through Lambda. moto's code location is not the endpoint: the code is a
// recorded gap, its hash is kept. A second run changes nothing.
func TestContainFunction(t *testing.T) {
	w := newFnWorld(t)
	before := w.read(t)
	out, ev, err := w.e.Run(t, w.reg, "contain-function", engine.Params{"function": "invoice-render"})
	if err != nil {
		t.Fatalf("contain-function: %v", err)
	}
	got := w.read(t)
	if got.concurrency == nil || *got.concurrency != 0 {
		t.Errorf("reserved concurrency: got %v, want 0", got.concurrency)
	}
	if got.auth != types.FunctionUrlAuthTypeAwsIam || got.url != w.url {
		t.Errorf("function URL: got %s %s, want AWS_IAM at the same address %s", got.auth, got.url, w.url)
	}
	if !slices.Equal(got.sids, []string{"uploads s3.amazonaws.com"}) {
		t.Errorf("policy: got %q, want the account's own S3 grant alone", got.sids)
	}
	if got.tags[prevTagConcurrency] != "5" || got.tags[prevTagPublicURLs] != "-" || got.tags[awsapi.TagCase] != "cr-test" || got.tags["app"] != "billing" ||
		!strings.Contains(got.tags[prevTagStatements], "partner") {
		t.Errorf("tags: got %v", got.tags)
	}
	body, ok := ev.Object("pre-containment-state.json")
	if !ok {
		t.Fatalf("no pre-containment-state.json in %v", ev.Names())
	}
	var rec fnRecord
	if err := json.Unmarshal(body, &rec); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rec.Policies["-"], "999988887777") || *rec.Concurrency != 5 || len(rec.State.Removed) != 2 {
		t.Errorf("record: got policies %v, concurrency %v, removed %v", rec.Policies, rec.Concurrency, rec.State.Removed)
	}
	if sub := out["substeps"].(map[string]any); !strings.Contains(sub["code"].(string), "not the configured endpoint") {
		t.Errorf("code: got %q, want a gap: moto's location is not its endpoint", sub["code"])
	}
	wantSHA := hexOf(aws.ToString(rec.Function.Configuration.CodeSha256))
	if out["code_sha256"] != wantSHA || len(wantSHA) != 64 {
		t.Errorf("code_sha256: got %v, want %s", out["code_sha256"], wantSHA)
	}
	if !hasGap(ev.Events(), "lambda:GetFunction code") {
		t.Errorf("no gap recorded for the code: %v", ev.Events())
	}
	_ = before

	again, _, err := w.e.Run(t, w.reg, "contain-function", engine.Params{"function": w.arn})
	if err != nil {
		t.Fatalf("second contain-function: %v", err)
	}
	if m := w.e.Mutations(); len(m) != 0 {
		t.Errorf("second run: mutating calls %v, want none", m)
	}
	if ps := again["previous_state"].(map[string]any); ps["from_tags"] != true || ps["reserved_concurrency"] != float64(5) {
		t.Errorf("second run's previous_state: got %v, want the state before, from the tags", ps)
	}
}

func hasGap(events []enginetest.Event, call string) bool {
	for _, e := range events {
		if e.Name == awsapi.EventGap && e.Detail["call"] == call {
			return true
		}
	}
	return false
}
