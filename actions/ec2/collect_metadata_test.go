package ec2

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestCollectMetadataSavesEverythingAndRecordsGaps collects the fixture
// host: outputs match what Build made, every artifact is stored, and the
// screenshot moto cannot give is a recorded gap, not a failure.
func TestCollectMetadataSavesEverythingAndRecordsGaps(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	w := hw.w
	a := &collectMetadata{region: hw.clients.Region, apis: func(region string) collectAPIs {
		return collectAPIs{ec2: hw.clients.EC2(region), iam: hw.clients.IAM(), asg: hw.clients.AutoScaling(region)}
	}}
	out, ev, err := hostRun(ctx, a, "cr-col", "gather", engine.Params{"instance_id": w.InstanceID})
	if err != nil {
		t.Fatalf("collect-metadata: %v\nsubsteps: %v", err, out["substeps"])
	}
	want := map[string]any{
		"platform": "linux", "region": w.Region, "az": w.AZ, "vpc_id": w.VPCID, "subnet_id": w.SubnetIDs[0],
		"private_ip": w.PrivateIP, "public_ip": w.PublicIP, "ami_id": w.AMIID,
		"instance_profile_arn": w.InstanceProfileARN, "asg_name": w.ASGName,
	}
	for k, v := range want {
		if out[k] != v {
			t.Errorf("output %s: got %v, want %v", k, out[k], v)
		}
	}
	if !equalStrings(anyStrings(out["volume_ids"].([]any)), w.VolumeIDs) || !equalStrings(anyStrings(out["eni_ids"].([]any)), w.ENIIDs) {
		t.Errorf("volume_ids %v eni_ids %v, want %v and %v", out["volume_ids"], out["eni_ids"], w.VolumeIDs, w.ENIIDs)
	}
	if out["launch_time"] == "" || out["console_output"] == "" {
		t.Errorf("launch_time %q console_output %q, want both set", out["launch_time"], out["console_output"])
	}
	for _, name := range []string{"instance.json", "tags.json", "volumes.json", "network-interfaces.json", "security-groups.json",
		"attributes.json", "image.json", "instance-profile.json", "console-output.txt", "collection.json"} {
		if len(object(ev, name)) == 0 {
			t.Errorf("artifact %s: missing or empty", name)
		}
	}
	checks := []struct{ artifact, want string }{
		{"security-groups.json", `"CidrIp": "0.0.0.0/0"`},       // the web group's 443 rule, in full
		{"security-groups.json", `"GroupId": "` + w.WebGroupID}, // the db group's source group
		{"attributes.json", "echo fixture > /tmp/boot"},         // user data, decoded
		{"attributes.json", `"instance_initiated_shutdown_behavior": "terminate"`},
		{"instance-profile.json", "inline-read"},
		{"instance-profile.json", w.ManagedPolicyARN},
		{"tags.json", `"env": "prod"`},
		{"collection.json", "ec2:GetConsoleScreenshot"},
	}
	for _, c := range checks {
		if !strings.Contains(string(object(ev, c.artifact)), c.want) {
			t.Errorf("artifact %s: does not contain %s\n%s", c.artifact, c.want, object(ev, c.artifact))
		}
	}
	if _, ok := ev.Object("console-screenshot.jpg"); ok {
		t.Errorf("a screenshot artifact was stored, but moto has no GetConsoleScreenshot")
	}
	gaps := ev.EventsNamed("gap")
	if len(gaps) != 1 || gaps[0]["call"] != "ec2:GetConsoleScreenshot" {
		t.Errorf("gap events: got %v, want one for ec2:GetConsoleScreenshot", gaps)
	}
	if g := out["gaps"].([]any); len(g) != 1 || g[0] != "ec2:GetConsoleScreenshot" {
		t.Errorf("gaps output: got %v", g)
	}
	var sum struct{ Artifacts []string }
	if err := json.Unmarshal(object(ev, "collection.json"), &sum); err != nil || len(sum.Artifacts) != 9 {
		t.Errorf("collection.json artifacts: got %v (err %v), want the 9 stored before it", sum.Artifacts, err)
	}
}

func TestCollectMetadataUnknownInstanceFails(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	a := &collectMetadata{region: hw.clients.Region, apis: func(region string) collectAPIs {
		return collectAPIs{ec2: hw.clients.EC2(region), iam: hw.clients.IAM(), asg: hw.clients.AutoScaling(region)}
	}}
	_, _, err := hostRun(ctx, a, "cr-col", "gather", engine.Params{"instance_id": "i-0000000000000dead"})
	if err == nil || !strings.Contains(err.Error(), `"i-0000000000000dead"`) || engine.IsRetryable(err) {
		t.Errorf("error: got %v, want a non-retryable one naming the instance", err)
	}
}

func TestInstanceOutputsPlatform(t *testing.T) {
	tests := []struct {
		name string
		inst types.Instance
		want string
	}{
		{"linux has no platform", types.Instance{}, "linux"},
		{"windows", types.Instance{Platform: types.PlatformValuesWindows}, "windows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := instanceOutputs(&tt.inst, "eu-west-1")
			if out["platform"] != tt.want || out["region"] != "eu-west-1" || out["volume_ids"] == nil || out["asg_name"] != "" {
				t.Errorf("got %v, want platform %s, region, empty lists and strings", out, tt.want)
			}
		})
	}
}

// TestCollectMetadataAfterIsolation: collect-metadata runs beside isolate,
// so its reads may come after isolate's changes. Collected after a whole
// isolation, it still keeps the rules of the groups the ENIs were in, the
// profile's role policies and the Auto Scaling group, read back from the
// prev tags isolate wrote before its first change.
func TestCollectMetadataAfterIsolation(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	w := hw.w
	if _, _, err := hostRun(ctx, hw.isolateAction(), "cr-late", "isolate", engine.Params{"instance_id": w.InstanceID}); err != nil {
		t.Fatalf("isolate: %v", err)
	}
	a := &collectMetadata{region: hw.clients.Region, apis: func(region string) collectAPIs {
		return collectAPIs{ec2: hw.clients.EC2(region), iam: hw.clients.IAM(), asg: hw.clients.AutoScaling(region)}
	}}
	out, ev, err := hostRun(ctx, a, "cr-late", "gather", engine.Params{"instance_id": w.InstanceID})
	if err != nil {
		t.Fatalf("collect-metadata: %v\nsubsteps: %v", err, out["substeps"])
	}
	if out["instance_profile_arn"] != w.InstanceProfileARN || out["asg_name"] != w.ASGName {
		t.Errorf("instance_profile_arn %v asg_name %v, want %v and %v (from the prev tags)", out["instance_profile_arn"], out["asg_name"], w.InstanceProfileARN, w.ASGName)
	}
	groups := anyStrings(out["security_group_ids"].([]any))
	sgs := string(object(ev, "security-groups.json"))
	for _, gs := range w.GroupsByENI {
		for _, g := range gs {
			if !slices.Contains(groups, g) || !strings.Contains(sgs, `"GroupId": "`+g+`"`) {
				t.Errorf("group %s the ENIs were in before isolation: not in security_group_ids %v or its rules not saved", g, groups)
			}
		}
	}
	if !strings.Contains(sgs, `"CidrIp": "0.0.0.0/0"`) {
		t.Errorf("the web group's rules are not in security-groups.json:\n%s", sgs)
	}
	if p := string(object(ev, "instance-profile.json")); !strings.Contains(p, "inline-read") || !strings.Contains(p, w.ManagedPolicyARN) {
		t.Errorf("instance-profile.json lacks the role's policies:\n%s", p)
	}
}

// TestTagBatches: resources that get the same tags share one CreateTags
// call; different tags, different calls; the API's limits split a batch.
func TestTagBatches(t *testing.T) {
	dot := func(v string) map[string]string { return map[string]string{prevTagDOT: v} }
	got := tagBatches(map[string]map[string]string{
		"i-1": {prevTagASG: "none", prevTagProfile: "none"}, "vol-1": dot("true"), "vol-2": dot("true"), "vol-3": dot("false"),
		"eni-1": groupTags([]string{"sg-a"}), "eni-2": groupTags([]string{"sg-a"}), "eni-3": groupTags([]string{"sg-b"}),
	})
	var calls []string
	for _, b := range got {
		calls = append(calls, strings.Join(b.resources, "+"))
	}
	slices.Sort(calls)
	want := []string{"eni-1+eni-2", "eni-3", "i-1", "vol-1+vol-2", "vol-3"}
	if !slices.Equal(calls, want) {
		t.Errorf("calls: got %v, want %v", calls, want)
	}
	many := map[string]map[string]string{}
	for i := range maxTagResources + 1 {
		many[fmt.Sprintf("vol-%04d", i)] = dot("true")
	}
	big := map[string]string{}
	for i := range maxTagsPerCall + 1 {
		big[fmt.Sprintf("k%02d", i)] = "v"
	}
	many["i-big"] = big
	n, seen := 0, map[string]int{}
	for _, b := range tagBatches(many) {
		n++
		if len(b.resources) > maxTagResources || len(b.tags) > maxTagsPerCall {
			t.Errorf("a call of %d resources and %d tags exceeds the API's limits", len(b.resources), len(b.tags))
		}
		for _, r := range b.resources {
			seen[r] += len(b.tags)
		}
	}
	if n != 4 || seen["i-big"] != maxTagsPerCall+1 || seen["vol-0000"] != 1 || seen[fmt.Sprintf("vol-%04d", maxTagResources)] != 1 {
		t.Errorf("%d calls (want 4), i-big got %d tags, the volumes %d and %d", n, seen["i-big"], seen["vol-0000"], seen[fmt.Sprintf("vol-%04d", maxTagResources)])
	}
}
