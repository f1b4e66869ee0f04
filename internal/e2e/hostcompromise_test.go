package e2e

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/engine/runner"
	"github.com/firebreak-ir/firebreak/engine/session"
	"github.com/firebreak-ir/firebreak/internal/awsfixture"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// hostWorld is a moto server holding a fresh compromised-instance world.
type hostWorld struct {
	cfg   aws.Config
	world *awsfixture.World
	ec2   *ec2.Client
}

func newHostWorld(t *testing.T) *hostWorld {
	t.Helper()
	m := testenv.StartMoto(t)
	cfg := m.Config()
	w, err := awsfixture.Build(testenv.Context(t), cfg)
	if err != nil {
		t.Fatalf("awsfixture.Build: %v", err)
	}
	return &hostWorld{cfg: cfg, world: w, ec2: ec2.NewFromConfig(cfg)}
}

// hostRun is one run of a playbook on a hostWorld, with its evidence in a
// local store.
type hostRun struct {
	*hostWorld
	store  *evidence.DirStore
	caseID string
	res    *runner.Result
	man    *evidence.Manifest
}

// runHostCompromise runs the built-in playbook with given inputs (the
// world's instance id added). swap, when not nil, may replace actions.
func runHostCompromise(t *testing.T, given map[string]any, swap map[string]engine.Action) *hostRun {
	t.Helper()
	return newHostWorld(t).run(t, "host-compromise", given, swap, nil)
}

// run runs playbooks/NAME.yaml as `firebreak run` would, in a new case.
func (hw *hostWorld) run(t *testing.T, name string, given map[string]any, swap map[string]engine.Action, approver runner.Approver) *hostRun {
	t.Helper()
	return hw.runFile(t, "../../playbooks/"+name+".yaml", given, swap, approver)
}

// runExample runs examples/NAME.yaml, approving every step.
func (hw *hostWorld) runExample(t *testing.T, name string, given map[string]any) *hostRun {
	t.Helper()
	return hw.runFile(t, "../../examples/"+name+".yaml", given, nil, runner.AutoApprove)
}

func (hw *hostWorld) runFile(t *testing.T, file string, given map[string]any, swap map[string]engine.Action, approver runner.Approver) *hostRun {
	t.Helper()
	name := file
	ctx := testenv.Context(t)
	reg, _ := registry(hw.cfg)
	if swap != nil {
		reg = swapActions(reg, swap)
	}
	pb, err := (&loader.Loader{Registry: reg}).LoadFile(file)
	if err != nil {
		t.Fatalf("loading %s:\n%v", name, err)
	}
	given["instance_id"] = hw.world.InstanceID
	inputs, err := loader.ResolveInputs(pb, given, nil)
	if err != nil {
		t.Fatalf("ResolveInputs: %v", err)
	}
	store, err := evidence.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatalf("NewDirStore: %v", err)
	}
	m := &session.Manager{Backend: &session.Local{Registry: reg, StateDir: t.TempDir()}}
	run, err := m.Start(ctx, &session.Request{Playbook: pb, Inputs: inputs, Store: store, Approver: approver})
	if err != nil {
		t.Fatalf("run %s: %v", name, err)
	}
	out := run.Wait()
	h := &hostRun{hostWorld: hw, store: store, caseID: out.CaseID, res: out.Result, man: out.Manifest}
	if h.res == nil {
		t.Fatalf("run %s: %v", name, out.Err)
	}
	for _, s := range h.res.Steps {
		t.Logf("%s step %s: %s %s %s", name, s.ID, s.Status, s.Error, s.SkipReason)
	}
	if h.man == nil {
		t.Fatalf("run %s: the case was not sealed: %v", name, out.Err)
	}
	return h
}

// inGroup returns the ENIs that have groupID among their own groups; see
// awsfixture.ENIsInGroup for why the Groups field is not read.
func (hw *hostWorld) inGroup(t *testing.T, groupID string) []string {
	t.Helper()
	got, err := awsfixture.NewClients(hw.cfg).ENIsInGroup(testenv.Context(t), groupID)
	if err != nil {
		t.Fatalf("ENIsInGroup %s: %v", groupID, err)
	}
	return got
}

func (h *hostRun) instance(t *testing.T) types.Instance {
	t.Helper()
	out, err := h.ec2.DescribeInstances(testenv.Context(t), &ec2.DescribeInstancesInput{InstanceIds: []string{h.world.InstanceID}})
	if err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	return out.Reservations[0].Instances[0]
}

func (h *hostRun) wantStatuses(t *testing.T, want map[string]engine.StepStatus) {
	t.Helper()
	for id, st := range want {
		rec, ok := h.res.Step(id)
		if !ok || rec.Status != st {
			t.Errorf("step %s: got %q (%s%s), want %q", id, rec.Status, rec.Error, rec.SkipReason, st)
		}
	}
}

func TestHostCompromiseContainsAndPreserves(t *testing.T) {
	h := runHostCompromise(t, map[string]any{}, nil)
	if h.res.Status != engine.RunSucceeded {
		t.Fatalf("run status: got %s, want succeeded", h.res.Status)
	}
	h.wantStatuses(t, map[string]engine.StepStatus{"gather": engine.StatusSucceeded, "isolate": engine.StatusSucceeded,
		"disks": engine.StatusSucceeded, "memory": engine.StatusSkipped, "stop": engine.StatusSkipped, "log": engine.StatusSucceeded})
	ctx := testenv.Context(t)

	// Every ENI is in the isolation group and in none of its old groups.
	iso, _ := h.res.Step("isolate")
	group, _ := iso.Outputs["isolation_group_id"].(string)
	if got := h.inGroup(t, group); group == "" || !slices.Equal(got, slices.Sorted(slices.Values(h.world.ENIIDs))) {
		t.Errorf("ENIs in the isolation group %q: got %v, want every ENI %v", group, got, h.world.ENIIDs)
	}
	for _, g := range []string{h.world.WebGroupID, h.world.AdminGroupID, h.world.DBGroupID} {
		if got := h.inGroup(t, g); len(got) != 0 {
			t.Errorf("ENIs still in the original group %s: %v, want none", g, got)
		}
	}

	// One completed snapshot of each volume, tagged with the case.
	snaps, err := h.ec2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		Filters: []types.Filter{{Name: aws.String("tag:firebreak:case"), Values: []string{h.caseID}}}})
	if err != nil {
		t.Fatalf("DescribeSnapshots: %v", err)
	}
	var vols []string
	for _, s := range snaps.Snapshots {
		if s.State != types.SnapshotStateCompleted {
			t.Errorf("snapshot %s: state %s, want completed", aws.ToString(s.SnapshotId), s.State)
		}
		vols = append(vols, aws.ToString(s.VolumeId))
	}
	slices.Sort(vols)
	want := slices.Sorted(slices.Values(h.world.VolumeIDs))
	if !slices.Equal(vols, want) {
		t.Errorf("snapshotted volumes: got %v, want %v (one each)", vols, want)
	}

	// Still running (terminate defaults to false) and claimed by the case.
	inst := h.instance(t)
	if inst.State.Name != types.InstanceStateNameRunning {
		t.Errorf("instance state: got %s, want running", inst.State.Name)
	}
	tags := map[string]string{}
	for _, tg := range inst.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if tags["firebreak:case"] != h.caseID {
		t.Errorf("instance tag firebreak:case: got %q, want %q", tags["firebreak:case"], h.caseID)
	}

	// The case verifies, and holds the snapshots and the journal.
	rep, err := evidence.Verify(ctx, h.store, h.caseID, nil)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if len(rep.Problems) != 0 {
		t.Errorf("verify problems: %v", rep.Problems)
	}
	kinds := map[string]int{}
	for _, a := range h.man.Artifacts {
		kinds[a.Kind]++
	}
	if kinds["ebs-snapshot"] != len(h.world.VolumeIDs) || kinds["run-log"] != 1 {
		t.Errorf("manifest artifacts by kind: got %v, want %d ebs-snapshot and 1 run-log", kinds, len(h.world.VolumeIDs))
	}
	t.Logf("artifacts: %v; verify checked %d, not rehashable %d", kinds, len(rep.Checked), len(rep.NotRehashable))
}

func TestHostCompromiseStopsWhenAsked(t *testing.T) {
	h := runHostCompromise(t, map[string]any{"terminate": true}, nil)
	h.wantStatuses(t, map[string]engine.StepStatus{"disks": engine.StatusSucceeded, "stop": engine.StatusSucceeded})
	if got := h.instance(t).State.Name; got != types.InstanceStateNameStopped {
		t.Errorf("instance state: got %s, want stopped", got)
	}
}

// failing is an action that declares another's spec and always fails, to
// show what the playbook does when that evidence step fails.
type failing struct{ spec engine.ActionSpec }

func (f failing) Spec() engine.ActionSpec { return f.spec }
func (f failing) Run(context.Context, *engine.StepInput) (engine.Outputs, error) {
	return nil, errors.New("snapshot quota exceeded")
}

func swapActions(reg *engine.Registry, swap map[string]engine.Action) *engine.Registry {
	out := engine.NewRegistry()
	for _, n := range reg.Names() {
		a, _ := reg.Lookup(n)
		if s, ok := swap[n]; ok {
			a = s
		}
		out.Register(a)
	}
	return out
}

func TestHostCompromiseNeverStopsWithoutItsEvidence(t *testing.T) {
	reg, _ := registry(aws.Config{})
	snap, _ := reg.Lookup("snapshot")
	h := runHostCompromise(t, map[string]any{"terminate": true}, map[string]engine.Action{"snapshot": failing{spec: snap.Spec()}})
	if h.res.Status != engine.RunFailed {
		t.Errorf("run status: got %s, want failed", h.res.Status)
	}
	h.wantStatuses(t, map[string]engine.StepStatus{"isolate": engine.StatusSucceeded, "disks": engine.StatusFailed,
		"stop": engine.StatusSkipped, "log": engine.StatusSucceeded})
	if got := h.instance(t).State.Name; got != types.InstanceStateNameRunning {
		t.Errorf("instance state: got %s, want running: no stop without the disk evidence", got)
	}
}
