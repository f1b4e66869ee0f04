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

// groupsByENI reads each of the world's ENIs' security groups, sorted.
func (hw *hostWorld) groupsByENI(t *testing.T) map[string][]string {
	t.Helper()
	out, err := hw.ec2.DescribeNetworkInterfaces(testenv.Context(t), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: hw.world.ENIIDs})
	if err != nil {
		t.Fatalf("DescribeNetworkInterfaces: %v", err)
	}
	got := map[string][]string{}
	for _, e := range out.NetworkInterfaces {
		for _, g := range e.Groups {
			got[aws.ToString(e.NetworkInterfaceId)] = append(got[aws.ToString(e.NetworkInterfaceId)], aws.ToString(g.GroupId))
		}
		slices.Sort(got[aws.ToString(e.NetworkInterfaceId)])
	}
	return got
}

func TestHostReleaseUndoesIsolationOnlyWhenApproved(t *testing.T) {
	hw := newHostWorld(t)
	// The groups as moto reports them, which is what release must restore.
	before := hw.groupsByENI(t)
	hc := hw.run(t, "host-compromise", map[string]any{}, nil, nil)
	if hc.res.Status != engine.RunSucceeded {
		t.Fatalf("host-compromise: got %s, want succeeded", hc.res.Status)
	}
	isolated := hw.groupsByENI(t)
	if mapsEqual(isolated, before) {
		t.Fatalf("host-compromise left the groups as they were: %v", isolated)
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
