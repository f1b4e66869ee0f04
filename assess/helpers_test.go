package assess

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// account is a moto_server with SDK clients to set it up and an Env that
// assesses it.
type account struct {
	moto    *testenv.Moto
	clients *awsapi.Clients
	ctx     context.Context
}

func startAccount(t *testing.T) *account {
	t.Helper()
	m := testenv.StartMoto(t)
	return &account{moto: m, clients: awsapi.NewClients(m.Config()), ctx: testenv.Context(t)}
}

func (a *account) env() *Env { return NewEnv(a.clients) }

// assess runs the checks matching pattern in regions with a fresh Env.
func (a *account) assess(t *testing.T, pattern string, regions ...string) *Report {
	t.Helper()
	return a.assessEnv(t, a.env(), pattern, regions...)
}

func (a *account) assessEnv(t *testing.T, env *Env, pattern string, regions ...string) *Report {
	t.Helper()
	reg := NewRegistry()
	Register(reg)
	checks, err := reg.Select([]string{pattern}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(regions) == 0 {
		regions = []string{"us-east-1"}
	}
	return Assess(a.ctx, env, checks, regions, 4)
}

// verdict finds the one result of check whose resource ends with resource.
func verdict(t *testing.T, rep *Report, check, resource string) Result {
	t.Helper()
	var found []Result
	for _, r := range rep.Results {
		if r.CheckID == check && strings.HasSuffix(r.Resource, resource) {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s on %q: got %d results, want 1; all results: %+v", check, resource, len(found), rep.Results)
	}
	return found[0]
}

// want asserts a verdict's status, and that a fail says how to fix it.
func want(t *testing.T, r Result, status Status) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s on %s: got %s (%s), want %s", r.CheckID, r.Resource, r.Status, r.Reason, status)
	}
	if r.Status == Fail && strings.TrimSpace(r.Remediation) == "" {
		t.Errorf("%s on %s: a fail without a remediation command: %q", r.CheckID, r.Resource, r.Remediation)
	}
	if r.Reason == "" {
		t.Errorf("%s on %s: empty reason", r.CheckID, r.Resource)
	}
}

var str = aws.String

// noErr returns a function that fails the test on a set-up call's error:
// ok(api.PutX(ctx, in)).
func noErr(t *testing.T) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}
