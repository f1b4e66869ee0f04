package assess

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/firebreak-ir/firebreak/actions/awsapi"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// allChecks runs every registered check on env in regions.
func allChecks(t *testing.T, env *Env, regions ...string) *Report {
	t.Helper()
	reg := NewRegistry()
	Register(reg)
	checks, err := reg.Select(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return Assess(context.Background(), env, checks, regions, 4)
}

// onlyErrors asserts every check gave at least one result and every result
// is an error: a check that cannot look never passes, nor fails.
func onlyErrors(t *testing.T, rep *Report) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range rep.Results {
		seen[r.CheckID] = true
		if r.Status != Error {
			t.Errorf("%s on %s: got %s (%s), want error", r.CheckID, r.Resource, r.Status, r.Reason)
		}
	}
	for _, c := range rep.Checks {
		if !seen[c.ID] {
			t.Errorf("%s: no result at all, want an error result", c.ID)
		}
	}
	if rep.ExitCode() != 0 {
		t.Errorf("exit code: got %d, want 0 (errors are not failures)", rep.ExitCode())
	}
}

// TestClosedEndpointGivesErrors points every client at a loopback port
// nobody listens on.
func TestClosedEndpointGivesErrors(t *testing.T) {
	t.Parallel()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""),
		BaseEndpoint: aws.String("http://127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))), RetryMaxAttempts: 1}
	onlyErrors(t, allChecks(t, NewEnv(awsapi.NewClients(cfg)), "us-east-1", "eu-west-1"))
}

// TestAccessDeniedGivesErrors makes every SDK call end in AccessDenied, as
// an auditor role lacking a permission sees it, through an SDK middleware:
// the clients and their error handling are the real ones.
func TestAccessDeniedGivesErrors(t *testing.T) {
	t.Parallel()
	deny := middleware.InitializeMiddlewareFunc("deny", func(context.Context, middleware.InitializeInput, middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		return middleware.InitializeOutput{}, middleware.Metadata{}, &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized"}
	})
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""),
		BaseEndpoint: aws.String("http://127.0.0.1:1"), RetryMaxAttempts: 1,
		APIOptions: []func(*middleware.Stack) error{func(s *middleware.Stack) error { return s.Initialize.Add(deny, middleware.Before) }}}
	rep := allChecks(t, NewEnv(awsapi.NewClients(cfg)), "us-east-1")
	onlyErrors(t, rep)
	for _, r := range rep.Results {
		if !strings.Contains(r.Reason, "AccessDenied") || !strings.HasPrefix(r.Remediation, "allow ") {
			t.Errorf("%s: got reason %q remediation %q, want AccessDenied and the permission to grant", r.CheckID, r.Reason, r.Remediation)
		}
	}
}

// TestPanickingCheckIsAnError: a check that panics gives an error result,
// and the other checks still run.
func TestPanickingCheckIsAnError(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	reg.Register(Check{ID: "x.boom", Family: "x", Severity: High, Scope: Regional, Run: func(context.Context, *Env, string) []Result {
		var m map[string]int
		m["a"] = 1
		return nil
	}})
	reg.Register(Check{ID: "x.fine", Family: "x", Severity: Low, Scope: Global, Run: func(context.Context, *Env, string) []Result {
		return []Result{passed("thing", "fine")}
	}})
	checks, _ := reg.Select(nil, nil)
	rep := Assess(context.Background(), &Env{}, checks, []string{"r1", "r2"}, 2)
	if len(rep.Results) != 3 || rep.Summary.Error != 2 || rep.Summary.Pass != 1 {
		t.Fatalf("got %+v, want two error results (one a region) and one pass", rep.Results)
	}
	if r := rep.Results[0]; r.CheckID != "x.boom" || !strings.Contains(r.Reason, "panicked") || r.Region != "r1" {
		t.Errorf("got %+v, want the panic as an error in r1", r)
	}
}
