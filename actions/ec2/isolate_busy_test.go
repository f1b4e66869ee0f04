package ec2

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestIsolateAndReleaseABusyENI: an ENI in 16 groups (AWS's maximum),
// whose ids overflow one 256-character tag, is isolated and released: its
// groups are recorded across firebreak:prev:groups and :1, the artifact
// has them all, and release puts every one back.
func TestIsolateAndReleaseABusyENI(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	eni := hw.w.SecondaryENI
	groups := append([]string(nil), hw.w.GroupsByENI[eni]...)
	for i := len(groups); i < 16; i++ {
		g, err := hw.check.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(fmt.Sprintf("busy-%d", i)),
			VpcId: aws.String(hw.w.VPCID), Description: aws.String("busy")})
		if err != nil {
			t.Fatal(err)
		}
		groups = append(groups, aws.ToString(g.GroupId))
	}
	if _, err := hw.check.EC2.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(eni), Groups: groups}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(groups)
	out, ev, err := hostRun(ctx, hw.isolateAction(), "cr-busy", "isolate", engine.Params{"instance_id": hw.w.InstanceID})
	if err != nil {
		t.Fatalf("isolate: %v", err)
	}
	var pre preState
	if err := json.Unmarshal(object(ev, "pre-isolation-state.json"), &pre); err != nil {
		t.Fatal(err)
	}
	// moto describes an attached ENI with the instance's launch groups
	// added (see awsfixture.ENIsInGroup), so the record may hold more.
	for _, g := range groups {
		if !contains(pre.Groups[eni], g) {
			t.Errorf("artifact groups of %s: got %v, want all of %v", eni, pre.Groups[eni], groups)
			break
		}
	}
	d, err := hw.check.EC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eni}})
	if err != nil {
		t.Fatal(err)
	}
	tags := tagMap(d.NetworkInterfaces[0].TagSet)
	if len(tags[prevTagGroups]) > 256 || tags[prevTagGroups+":1"] == "" {
		t.Errorf("prev tags: got %v, want the groups split over %s and %s:1", tags, prevTagGroups, prevTagGroups)
	}
	if got, _ := hw.check.ENIsInGroup(ctx, out["isolation_group_id"].(string)); !contains(got, eni) {
		t.Errorf("isolation group holds %v, want %s", got, eni)
	}
	rel := &release{apis: clientAPIs(hw.clients), region: hw.clients.Region}
	if out, _, err := hostRun(ctx, rel, "cr-busy", "release", engine.Params{"instance_id": hw.w.InstanceID}); err != nil {
		t.Fatalf("release: %v\nsubsteps: %v", err, out["substeps"])
	}
	for _, g := range groups {
		if got, _ := hw.check.ENIsInGroup(ctx, g); !contains(got, eni) {
			t.Errorf("group %s after release: holds %v, want %s back", g, got, eni)
		}
	}
	d, _ = hw.check.EC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eni}})
	for k := range tagMap(d.NetworkInterfaces[0].TagSet) {
		if strings.HasPrefix(k, prevTagGroups) {
			t.Errorf("tag %s left after release", k)
		}
	}
}
