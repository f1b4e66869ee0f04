package findings_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/actions/all"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/engine/runner"
	"github.com/firebreak-ir/firebreak/engine/session"
	"github.com/firebreak-ir/firebreak/findings"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestKeyCompromiseFromFinding runs the whole path of `run --finding`
// against moto: the malicious-IP finding (naming a real key of a real
// user) picks key-compromise, its inputs come from the finding, the
// finding is the case's first artifact, the key ends inactive, and the
// case verifies.
func TestKeyCompromiseFromFinding(t *testing.T) {
	m := testenv.StartMoto(t)
	ctx := testenv.Context(t)
	api := iam.NewFromConfig(m.Config())
	if _, err := api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ci-deployer")}); err != nil {
		t.Fatal(err)
	}
	k, err := api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ci-deployer")})
	if err != nil {
		t.Fatal(err)
	}
	key := aws.ToString(k.AccessKey.AccessKeyId)
	raw, err := os.ReadFile(filepath.Join(fixtureDir, "guardduty-iamuser-malicious-ip.json"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := findings.Parse([]byte(strings.ReplaceAll(string(raw), "AKIAEXAMPLEKEY123456", key)))
	if err != nil {
		t.Fatal(err)
	}
	cat := builtins()
	entries, _ := cat.List()
	names, _ := findings.Answers(cat, entries, f)
	if !slices.Equal(names, []string{"key-compromise"}) {
		t.Fatalf("Answers: got %v, want key-compromise", names)
	}
	pb, err := cat.Find(names[0])
	if err != nil {
		t.Fatal(err)
	}
	store, caseID, res := runFromFinding(t, ctx, m, pb, f)
	if res.Status != engine.RunSucceeded {
		t.Fatalf("run: %s %+v", res.Status, res.Steps)
	}
	keys, err := api.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("ci-deployer")})
	if err != nil || len(keys.AccessKeyMetadata) != 1 || keys.AccessKeyMetadata[0].Status != types.StatusTypeInactive {
		t.Errorf("the finding's key after the run: %+v (%v), want it there and Inactive", keys, err)
	}
	rc, err := store.Open(ctx, caseID+"/artifacts/finding/finding.json")
	if err != nil {
		t.Fatalf("the finding is not in the case: %v", err)
	}
	defer rc.Close()
}

// runFromFinding does what the CLI does for run --finding: resolve the
// inputs with the finding, then start the run through the session (which
// stores the finding first, runs, seals), and verify the case.
func runFromFinding(t *testing.T, ctx context.Context, m *testenv.Moto, pb *engine.Playbook, f *findings.Finding) (*evidence.DirStore, string, *runner.Result) {
	t.Helper()
	inputs, err := loader.ResolveInputs(pb, nil, f.Env())
	if err != nil {
		t.Fatalf("inputs from the finding: %v", err)
	}
	reg := all.Registry(awsapi.NewClients(m.Config()), all.Options{})
	store, err := evidence.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mgr := &session.Manager{Backend: &session.Local{Registry: reg, StateDir: t.TempDir(),
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}}
	run, err := mgr.Start(ctx, &session.Request{Playbook: pb, Inputs: inputs, Finding: f.ForRun(), Store: store})
	if err != nil {
		t.Fatal(err)
	}
	out := run.Wait()
	if out.Result == nil || out.Manifest == nil {
		t.Fatalf("run: %v", out.Err)
	}
	if man := out.Manifest; len(man.Artifacts) == 0 || man.Artifacts[0].Kind != "finding" {
		t.Errorf("manifest artifacts: got %+v, want the finding first", man.Artifacts)
	}
	if rep, err := evidence.Verify(ctx, store, out.CaseID, nil); err != nil || !rep.OK() {
		t.Errorf("Verify: %v %+v", err, rep)
	}
	return store, out.CaseID, out.Result
}
