package findings_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/findings"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsfixture"
	"github.com/firebreak-ir/firebreak/internal/revoke"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestCredentialExfiltrationFromFinding: the exfiltration finding, naming
// the fixture world's instance and role, revokes the role's sessions
// (one policy, though isolate revokes again), isolates the instance and
// snapshots its volumes for the case.
func TestCredentialExfiltrationFromFinding(t *testing.T) {
	m := testenv.StartMoto(t)
	ctx := testenv.Context(t)
	w, err := awsfixture.Build(ctx, m.Config())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(fixtureDir, "guardduty-instance-credential-exfiltration.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.NewReplacer("i-0a1b2c3d4e5f67890", w.InstanceID, `"web-role"`, `"`+w.RoleName+`"`).Replace(string(raw))
	f, err := findings.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if f.Incident["instance_id"] != w.InstanceID || f.Incident["principal"] != w.RoleName {
		t.Fatalf("incident: got %v, want the world's instance %s and role %s", f.Incident, w.InstanceID, w.RoleName)
	}
	pb, err := builtins().Find("instance-credential-exfiltration")
	if err != nil {
		t.Fatal(err)
	}
	iamc := iam.NewFromConfig(m.Config())
	before, err := iamc.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(w.RoleName)})
	if err != nil {
		t.Fatal(err)
	}
	_, caseID, res := runFromFinding(t, ctx, m, pb, f)
	for _, id := range []string{"revoke", "gather", "isolate", "disks"} {
		if s, _ := res.Step(id); s.Status != engine.StatusSucceeded {
			t.Errorf("step %s: %s %s", id, s.Status, s.Error)
		}
	}
	pols, err := iamc.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(w.RoleName)})
	if err != nil {
		t.Fatal(err)
	}
	want := append(slices.Clone(before.PolicyNames), revoke.PolicyName)
	slices.Sort(want)
	slices.Sort(pols.PolicyNames)
	if !slices.Equal(pols.PolicyNames, want) {
		t.Errorf("role policies: got %v, want %v: one revoke policy, shared by revoke-sessions and isolate", pols.PolicyNames, want)
	}
	api := ec2.NewFromConfig(m.Config())
	snaps, err := api.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		Filters: []types.Filter{{Name: aws.String("tag:" + awsapi.TagCase), Values: []string{caseID}}}})
	if err != nil || len(snaps.Snapshots) != len(w.VolumeIDs) {
		t.Errorf("case snapshots: got %d (%v), want one per volume (%d)", len(snaps.Snapshots), err, len(w.VolumeIDs))
	}
	inst, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{w.InstanceID}})
	if err != nil {
		t.Fatal(err)
	}
	tags := awsapi.EC2TagMap(inst.Reservations[0].Instances[0].Tags)
	if tags[awsapi.TagStatus] != "isolated" || tags[awsapi.TagCase] != caseID {
		t.Errorf("instance tags: got %v, want isolated for case %s", tags, caseID)
	}
}
