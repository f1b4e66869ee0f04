package ec2

import (
	"encoding/json"
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
