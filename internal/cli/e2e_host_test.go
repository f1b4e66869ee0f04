package cli

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/internal/awsfixture"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestHostCompromiseDryRunThenRun drives the built-in playbook through the
// binary against a compromised-instance world on moto: --dry-run changes
// nothing, the real run isolates every ENI and snapshots every volume.
func TestHostCompromiseDryRunThenRun(t *testing.T) {
	s, m := awsSandbox(t)
	ctx := testenv.Context(t)
	w, err := awsfixture.Build(ctx, m.Config())
	if err != nil {
		t.Fatalf("building the world: %v", err)
	}
	api := ec2.NewFromConfig(m.Config())
	groups := func() map[string][]string {
		out, err := api.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: w.ENIIDs})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for _, eni := range out.NetworkInterfaces {
			for _, g := range eni.Groups {
				got[aws.ToString(eni.NetworkInterfaceId)] = append(got[aws.ToString(eni.NetworkInterfaceId)], aws.ToString(g.GroupId))
			}
			slices.Sort(got[aws.ToString(eni.NetworkInterfaceId)])
		}
		return got
	}
	snapshots := func() int {
		out, err := api.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, sn := range out.Snapshots {
			if slices.Contains(w.VolumeIDs, aws.ToString(sn.VolumeId)) {
				n++
			}
		}
		return n
	}
	before := groups()

	r := s.run("run", "host-compromise", "-i", "instance_id="+w.InstanceID, "--dry-run")
	if r.code != 0 && r.code != 1 { // 1: the check found a problem moto cannot answer
		t.Fatalf("--dry-run: got exit %d, want 0 or 1\n%s", r.code, r)
	}
	contains(t, "dry-run plan", r.stdout, "gather (collect-metadata)", "isolate (isolate)", "mode: check")
	if got := groups(); !equalGroups(got, before) {
		t.Fatalf("--dry-run changed the ENIs' groups: got %v, want %v", got, before)
	}
	if n := snapshots(); n != 0 {
		t.Fatalf("--dry-run made %d snapshot(s)", n)
	}

	r = s.run("run", "host-compromise", "-i", "instance_id="+w.InstanceID).want(t, 0)
	after := groups()
	for _, eni := range w.ENIIDs {
		if slices.Equal(after[eni], before[eni]) {
			t.Errorf("ENI %s kept its groups %v after the run; want it isolated", eni, after[eni])
		}
	}
	if n := snapshots(); n != len(w.VolumeIDs) {
		t.Errorf("got %d snapshot(s), want one per volume (%d)", n, len(w.VolumeIDs))
	}
	s.run("verify", r.manifestPath(t)).want(t, 0)
	// The summary says what changed: the group the ENIs are in now, the
	// snapshots taken, and where the evidence is.
	sg, err := api.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		{Name: aws.String("group-name"), Values: []string{"firebreak-isolation"}}, {Name: aws.String("vpc-id"), Values: []string{w.VPCID}}}})
	if err != nil || len(sg.SecurityGroups) != 1 {
		t.Fatalf("the isolation group: %v, %v", sg, err)
	}
	isolation := aws.ToString(sg.SecurityGroups[0].GroupId)
	snaps, err := api.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{Filters: []types.Filter{{Name: aws.String("volume-id"), Values: w.VolumeIDs}}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, sn := range snaps.Snapshots {
		ids = append(ids, aws.ToString(sn.SnapshotId))
	}
	if len(ids) != len(w.VolumeIDs) {
		t.Fatalf("snapshots of the volumes: %v", ids)
	}
	_, changed, ok := strings.Cut(r.stderr, "\nwhat changed and what was kept:\n")
	if !ok {
		t.Fatalf("no \"what changed\" in the summary:\n%s", r)
	}
	contains(t, "what changed", changed, "isolation_group_id  "+isolation, "snapshot_ids        ", "evidence: ")
	for _, id := range ids {
		contains(t, "snapshot ids", changed, id)
	}
}

func equalGroups(a, b map[string][]string) bool {
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
