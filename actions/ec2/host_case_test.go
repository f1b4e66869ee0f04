package ec2

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestHostActionsIntoARealCase runs collect-metadata, isolate and release
// on the fixture host with the real evidence store: the artifacts land in
// the case directory, every change and gap is in the custody chain, and
// the case verifies.
func TestHostActionsIntoARealCase(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	dir := t.TempDir()
	store, err := evidence.NewDirStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	caseID := evidence.NewCaseID(time.Now())
	c, err := evidence.OpenCase(ctx, store, evidence.Header{CaseID: caseID, RunID: "run-host", StartedAt: time.Now()}, nil)
	if err != nil {
		t.Fatalf("OpenCase: %v", err)
	}
	run := func(a engine.Action, step string, p engine.Params) engine.Outputs {
		in := &engine.StepInput{RunID: "run-host", CaseID: caseID, StepID: step, Params: p, Attempt: 1, Evidence: c.Evidence(step)}
		out, err := a.Run(ctx, in)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		// The loader lets later steps read only declared outputs: what
		// Run returns and what Spec declares must be the same names.
		declared := map[string]bool{}
		for _, o := range a.Spec().Outputs {
			declared[o.Name] = true
			if _, ok := out[o.Name]; !ok {
				t.Errorf("%s: declared output %q missing", step, o.Name)
			}
		}
		for k := range out {
			if !declared[k] {
				t.Errorf("%s: output %q not declared in the spec", step, k)
			}
		}
		return out
	}
	run(&findInstance{api: func(r string) findAPI { return hw.clients.EC2(r) }}, "find", engine.Params{"target": hw.w.PrivateIP, "regions": []any{"us-east-1"}, "concurrency": 1})
	run(&collectMetadata{region: hw.clients.Region, apis: func(r string) collectAPIs {
		return collectAPIs{ec2: hw.clients.EC2(r), iam: hw.clients.IAM(), asg: hw.clients.AutoScaling(r)}
	}}, "gather", engine.Params{"instance_id": hw.w.InstanceID})
	iso := run(hw.isolateAction(), "isolate", engine.Params{"instance_id": hw.w.InstanceID, "revoke_sessions": true})
	run(&release{apis: clientAPIs(hw.clients), region: hw.clients.Region}, "release", engine.Params{"instance_id": hw.w.InstanceID})
	if _, err := c.Finish(ctx, "succeeded", time.Now()); err != nil {
		t.Fatalf("Finish: %v", err)
	}

	for _, f := range []string{"artifacts/gather/console-output.txt", "artifacts/gather/security-groups.json", "artifacts/isolate/pre-isolation-state.json"} {
		if st, err := os.Stat(filepath.Join(dir, caseID, f)); err != nil || st.Size() == 0 {
			t.Errorf("artifact %s: %v", f, err)
		}
	}
	if iso["state_artifact"] == "" {
		t.Errorf("isolate state_artifact output empty")
	}
	counts := custodyCounts(t, filepath.Join(dir, caseID, "custody.jsonl"))
	if counts["gap"] != 1 || counts["aws-change"] < 15 || counts["substep"] < 20 {
		t.Errorf("custody events: got %v, want 1 gap, at least 15 aws-change (isolate and release), a substep line per part", counts)
	}
	rep, err := evidence.Verify(ctx, store, caseID, nil)
	if err != nil || len(rep.Problems) != 0 {
		t.Errorf("Verify: %v, problems %v", err, rep)
	}
}

func custodyCounts(t *testing.T, path string) map[string]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("custody log: %v", err)
	}
	defer f.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e struct{ Event string }
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("custody line %q: %v", sc.Text(), err)
		}
		counts[e.Event]++
	}
	return counts
}
