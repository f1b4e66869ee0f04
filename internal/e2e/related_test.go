package e2e

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestHostCompromiseCollectsRelatedInstances: an instance sharing the
// compromised one's instance profile (so its role) is found after
// isolation and its metadata collected, and it is left as it was: in its
// own group, running.
func TestHostCompromiseCollectsRelatedInstances(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	w := hw.world
	sg, err := hw.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("peer-" + w.Suffix),
		Description: aws.String("a peer's own group"), VpcId: aws.String(w.VPCID)})
	if err != nil {
		t.Fatal(err)
	}
	peerSG := aws.ToString(sg.GroupId)
	run, err := hw.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(w.AMIID), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(w.SubnetIDs[1]), SecurityGroupIds: []string{peerSG},
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String(w.InstanceProfileName)}})
	if err != nil {
		t.Fatal(err)
	}
	peer := aws.ToString(run.Instances[0].InstanceId)

	h := hw.run(t, "host-compromise", map[string]any{}, nil, nil)
	h.wantStatuses(t, map[string]engine.StepStatus{"isolate": engine.StatusSucceeded, "related": engine.StatusSucceeded,
		"related-metadata": engine.StatusSucceeded})
	rel, _ := h.res.Step("related")
	ids, _ := rel.Outputs["instance_ids"].([]any)
	if !slices.Contains(ids, any(peer)) {
		t.Fatalf("related instance_ids = %v, want the peer %s", ids, peer)
	}
	meta, _ := h.res.Step("related-metadata")
	var collected []any
	for i, it := range meta.Items {
		if it.Status == engine.StatusSucceeded && i < len(ids) {
			collected = append(collected, ids[i])
		}
	}
	if !slices.Contains(collected, any(peer)) {
		t.Errorf("metadata collected of %v, want the peer %s among them", collected, peer)
	}
	out, err := hw.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{peer}})
	if err != nil {
		t.Fatal(err)
	}
	p := out.Reservations[0].Instances[0]
	if p.State.Name != types.InstanceStateNameRunning {
		t.Errorf("peer state %s, want running", p.State.Name)
	}
	eni := aws.ToString(p.NetworkInterfaces[0].NetworkInterfaceId)
	if got := h.inGroup(t, peerSG); !slices.Contains(got, eni) {
		t.Errorf("peer's ENI %s left its own group %s (ENIs there: %v): a related instance must not be isolated", eni, peerSG, got)
	}
}
