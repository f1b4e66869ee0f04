package assess

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
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
// is an error: a check that cannot look never passes, nor fails. High
// checks that could not run make the exit code 1, and the summary counts them.
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
	high := 0
	for _, r := range rep.Results {
		if r.Severity == High {
			high++
		}
	}
	if high == 0 || rep.Summary.HighErrored != high || rep.Summary.HighFailed != 0 {
		t.Errorf("summary: got %+v, want high_errored %d (> 0) and no high failure", rep.Summary, high)
	}
	if rep.ExitCode() != 1 {
		t.Errorf("exit code: got %d, want 1 (high checks that could not run are not a pass)", rep.ExitCode())
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
	rep := allChecks(t, NewEnv(awsapi.NewClients(denyAllConfig())), "us-east-1")
	onlyErrors(t, rep)
	for _, r := range rep.Results {
		if !strings.Contains(r.Reason, "AccessDenied") || !strings.HasPrefix(r.Remediation, "allow ") {
			t.Errorf("%s: got reason %q remediation %q, want AccessDenied and the permission to grant", r.CheckID, r.Reason, r.Remediation)
		}
	}
}

// denyAllConfig makes every SDK call end in AccessDenied before it leaves
// the process.
func denyAllConfig() aws.Config {
	deny := middleware.InitializeMiddlewareFunc("deny", func(context.Context, middleware.InitializeInput, middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		return middleware.InitializeOutput{}, middleware.Metadata{}, &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized"}
	})
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""),
		BaseEndpoint: aws.String("http://127.0.0.1:1"), RetryMaxAttempts: 1,
		APIOptions: []func(*middleware.Stack) error{func(s *middleware.Stack) error { return s.Initialize.Add(deny, middleware.Before) }}}
}

// TestAccessDeniedExitsOne: `firebreak assess` as a principal that may read
// nothing exits 1, and says how many high checks could not run.
func TestAccessDeniedExitsOne(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	rep, err := Run(context.Background(), Options{Regions: []string{"us-east-1"}, Clients: awsapi.NewClients(denyAllConfig())})
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(&out, rep, "table", WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	code, err := rep.ExitCode(), rep.Err()
	if code != ExitHighFailed || err == nil || !strings.Contains(err.Error(), "0 high-severity check result(s) failed, ") || !strings.HasSuffix(err.Error(), " could not run") {
		t.Errorf("got exit %d, error %v; want 1 and how many high checks could not run", code, err)
	}
	if !strings.Contains(out.String(), " high could not run) in us-east-1") || strings.Contains(out.String(), "(0 high could not run)") {
		t.Errorf("summary line: want the number of high checks that could not run:\n%s", out.String())
	}
}

// TestPanickingCheckIsAnError: a check that panics gives an error result,
// and the other checks still run.
func TestPanickingCheckIsAnError(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	reg.Register(Check{ID: "x.boom", Family: "x", Severity: High, Scope: Regional, Run: func(context.Context, *Env, string) []Result {
		var m map[string]int
		//lint:ignore SA5000 a real runtime panic is what this test needs
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
