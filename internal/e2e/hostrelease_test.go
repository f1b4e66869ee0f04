package e2e

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/runner"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// groupsByENI reads each of the world's ENIs' Groups field, sorted.
//
// moto describes an attached ENI with its own groups plus the instance's
// launch groups (see awsfixture.ENIsInGroup), and isolate records, as AWS
// would have it, the Groups field; so release puts back that field's view,
// and this is the view to compare before and after. The isolation itself
// is checked with the group-id filter (inGroup), which moto gets right.
func (hw *hostWorld) groupsByENI(t *testing.T) map[string][]string {
	t.Helper()
	out, err := hw.ec2.DescribeNetworkInterfaces(testenv.Context(t), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: hw.world.ENIIDs})
	if err != nil {
		t.Fatalf("DescribeNetworkInterfaces: %v", err)
	}
	got := map[string][]string{}
	for _, e := range out.NetworkInterfaces {
		id := aws.ToString(e.NetworkInterfaceId)
		for _, g := range e.Groups {
			got[id] = append(got[id], aws.ToString(g.GroupId))
		}
		slices.Sort(got[id])
	}
	return got
}

func TestHostReleaseUndoesIsolationOnlyWhenApproved(t *testing.T) {
	hw := newHostWorld(t)
	// What release must restore.
	before := hw.groupsByENI(t)
	if len(before) != len(hw.world.ENIIDs) {
		t.Fatalf("fixture: groups by ENI %v, want every ENI %v", before, hw.world.ENIIDs)
	}
	hc := hw.run(t, "host-compromise", map[string]any{}, nil, nil)
	if hc.res.Status != engine.RunSucceeded {
		t.Fatalf("host-compromise: got %s, want succeeded", hc.res.Status)
	}
	iso, _ := hc.res.Step("isolate")
	group, _ := iso.Outputs["isolation_group_id"].(string)
	isolated := hw.groupsByENI(t)
	if len(hw.inGroup(t, group)) != len(hw.world.ENIIDs) || mapsEqual(isolated, before) {
		t.Fatalf("host-compromise did not isolate: groups %v, isolation group %q", isolated, group)
	}

	// Nobody to ask: the release waits for approval and changes nothing.
	waiting := hw.run(t, "host-release", map[string]any{}, nil, nil)
	if waiting.res.Status == engine.RunSucceeded {
		t.Errorf("host-release without approval: got %s, want it to stop before releasing", waiting.res.Status)
	}
	if got := hw.groupsByENI(t); !mapsEqual(got, isolated) {
		t.Errorf("groups after an unapproved release: got %v, want still isolated %v", got, isolated)
	}

	// A refusal is not a release either.
	no := runner.ApproverFunc(func(context.Context, string, string) (bool, error) { return false, nil })
	hw.run(t, "host-release", map[string]any{}, nil, no)
	if got := hw.groupsByENI(t); !mapsEqual(got, isolated) {
		t.Errorf("groups after a refused release: got %v, want still isolated %v", got, isolated)
	}

	rel := hw.run(t, "host-release", map[string]any{}, nil, runner.AutoApprove)
	rel.wantStatuses(t, map[string]engine.StepStatus{"release": engine.StatusSucceeded, "log": engine.StatusSucceeded})
	if got := hw.groupsByENI(t); !mapsEqual(got, before) {
		t.Errorf("groups after release: got %v, want the original %v", got, before)
	}
	if got := hw.inGroup(t, group); len(got) != 0 {
		t.Errorf("ENIs still in the isolation group after release: %v", got)
	}
}

func mapsEqual(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}
