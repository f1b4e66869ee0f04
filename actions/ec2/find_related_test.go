package ec2

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/enginetest"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestFindRelated on moto: around the fixture's compromised instance, one
// instance has its instance profile, one another profile holding its role,
// one its web security group, and one shares nothing but the AMI. The
// first three are found with why; the last only when AMIs are asked for.
func TestFindRelated(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	c, w := hw.check, hw.w
	other, err := c.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("other-" + w.Suffix),
		Description: aws.String("unrelated"), VpcId: aws.String(w.VPCID)})
	if err != nil {
		t.Fatal(err)
	}
	otherSG := aws.ToString(other.GroupId)
	profile2 := "second-profile-" + w.Suffix
	if _, err := c.IAM.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(profile2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.IAM.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(profile2), RoleName: aws.String(w.RoleName)}); err != nil {
		t.Fatal(err)
	}
	launch := func(name, profile, sg string) string {
		in := &ec2.RunInstancesInput{ImageId: aws.String(w.AMIID), InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			SubnetId: aws.String(w.SubnetIDs[1]), SecurityGroupIds: []string{sg},
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String(name)}}}}}
		if profile != "" {
			in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Name: aws.String(profile)}
		}
		out, err := c.EC2.RunInstances(ctx, in)
		if err != nil {
			t.Fatalf("launching %s: %v", name, err)
		}
		return aws.ToString(out.Instances[0].InstanceId)
	}
	sameProfile := launch("same-profile", w.InstanceProfileName, otherSG)
	sameRole := launch("same-role", profile2, otherSG)
	sameGroup := launch("same-group", "", w.WebGroupID)
	unrelated := launch("unrelated", "", otherSG)

	run := func(criteria ...any) (map[string][]string, *enginetest.Evidence) {
		p := engine.Params{"instance_id": w.InstanceID}
		if len(criteria) > 0 {
			p["criteria"] = criteria
		}
		out, ev, err := hostRun(ctx, &findRelated{api: newRelatedAPI(hw)}, "cr-rel", "related", p)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for _, r := range out["related"].([]any) {
			r := r.(map[string]any)
			for _, why := range r["reasons"].([]any) {
				why := why.(map[string]any)
				got[r["instance_id"].(string)] = append(got[r["instance_id"].(string)], why["criterion"].(string)+"="+why["value"].(string))
			}
		}
		ids := out["instance_ids"].([]any)
		if len(ids) != len(got) || out["count"] != len(got) {
			t.Errorf("instance_ids %v, count %v, related %v: want one each", ids, out["count"], got)
		}
		return got, ev
	}
	got, ev := run() // the default: role and security group
	want := map[string][]string{
		sameProfile: {"role=" + w.RoleName},
		sameRole:    {"role=" + w.RoleName},
		sameGroup:   {"security_group=" + w.WebGroupID},
	}
	for id, reasons := range want {
		if !slices.Equal(got[id], reasons) {
			t.Errorf("%s: reasons %v, want %v", id, got[id], reasons)
		}
	}
	if _, ok := got[unrelated]; ok || len(got) != len(want) {
		t.Errorf("related = %v, want exactly %v (not the unrelated %s)", got, want, unrelated)
	}
	var art struct {
		Related []RelatedInstance `json:"related"`
	}
	if err := json.Unmarshal(object(ev, "related-instances.json"), &art); err != nil || len(art.Related) != 3 {
		t.Errorf("artifact related-instances.json: %v, %+v", err, art)
	}

	got, _ = run("ami", "instance_profile", "asg", "subnet", "key_pair")
	if r := got[unrelated]; !slices.Equal(r, []string{"ami=" + w.AMIID}) {
		t.Errorf("unrelated by AMI: reasons %v, want ami=%s", r, w.AMIID)
	}
	if r := got[sameProfile]; !slices.Contains(r, "instance_profile="+w.InstanceProfileARN) {
		t.Errorf("same profile: reasons %v, want instance_profile=%s", r, w.InstanceProfileARN)
	}

	// Once isolated, the instance has lost its groups and profile; it is
	// still related by what it had: the prev tags isolate left say so.
	if _, _, err := hostRun(ctx, hw.isolateAction(), "cr-rel", "isolate", withDefaults(hw.isolateAction(), engine.Params{"instance_id": w.InstanceID})); err != nil {
		t.Fatalf("isolate: %v", err)
	}
	if got, _ = run(); !slices.Equal(got[sameGroup], want[sameGroup]) || !slices.Equal(got[sameRole], want[sameRole]) {
		t.Errorf("after isolation: related %v, want %v", got, want)
	}

	if _, _, err := hostRun(ctx, &findRelated{api: newRelatedAPI(hw)}, "cr-rel", "related",
		engine.Params{"instance_id": w.InstanceID, "criteria": []any{"vpc"}}); err == nil || !strings.Contains(err.Error(), `criterion "vpc" is unknown`) {
		t.Errorf("unknown criterion: %v", err)
	}
}

func newRelatedAPI(hw *hostWorld) func(string) relatedAPI {
	return func(region string) relatedAPI {
		return relatedAPI{ec2: hw.clients.EC2(region), iam: hw.clients.IAM(), asg: hw.clients.AutoScaling(region)}
	}
}
