package ec2

import (
	"context"
	"errors"
	"reflect"
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

// firebreakGroups counts the groups named firebreak-* in the world's VPC.
func (hw *hostWorld) firebreakGroups(t *testing.T, ctx context.Context) []string {
	t.Helper()
	out, err := hw.check.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{hw.w.VPCID}}}})
	if err != nil {
		t.Fatalf("DescribeSecurityGroups: %v", err)
	}
	var names []string
	for _, g := range out.SecurityGroups {
		if strings.HasPrefix(aws.ToString(g.GroupName), "firebreak-") {
			names = append(names, aws.ToString(g.GroupName))
		}
	}
	return names
}

// TestIsolateTwiceMakesNothingTwice: the second run finds the groups by
// name, and the pre-isolation state in the prev tags, not the isolated
// state it sees live.
func TestIsolateTwiceMakesNothingTwice(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	a := hw.isolateAction()
	p := engine.Params{"instance_id": hw.w.InstanceID, "revoke_sessions": true}
	first, _, err := hostRun(ctx, a, "cr-twice", "isolate", p)
	if err != nil {
		t.Fatalf("first isolate: %v", err)
	}
	second, _, err := hostRun(ctx, a, "cr-twice", "isolate", p)
	if err != nil {
		t.Fatalf("second isolate: %v\nsubsteps: %v", err, second["substeps"])
	}
	if got := hw.firebreakGroups(t, ctx); len(got) != 2 {
		t.Errorf("firebreak groups after two runs: got %v, want firebreak-conversion and firebreak-isolation once each", got)
	}
	if first["isolation_group_id"] != second["isolation_group_id"] {
		t.Errorf("isolation group: first %v, second %v, want the same", first["isolation_group_id"], second["isolation_group_id"])
	}
	if !reflect.DeepEqual(first["previous_groups"], second["previous_groups"]) {
		t.Errorf("previous_groups: first %v, second %v, want the pre-isolation groups both times", first["previous_groups"], second["previous_groups"])
	}
	ps := second["previous_state"].(map[string]any)
	if ps["from_tags"] != true || ps["instance_profile_arn"] != hw.w.InstanceProfileARN || ps["auto_scaling_group"] != hw.w.ASGName {
		t.Errorf("second previous_state: got %v, want it read from the prev tags with the original profile and ASG", ps)
	}
	if tgs, _ := ps["target_groups"].([]any); len(tgs) != 1 || tgs[0].(map[string]any)["name"] != "fb-tg-"+hw.w.Suffix {
		t.Errorf("second previous_state target groups: got %v, want the fixture's, from the tag", ps["target_groups"])
	}
	if elbs, _ := ps["classic_elbs"].([]any); len(elbs) != 1 || elbs[0] != hw.w.ClassicELBName {
		t.Errorf("second previous_state classic ELBs: got %v, want [%s]", ps["classic_elbs"], hw.w.ClassicELBName)
	}
	hw.assertIsolated(t, ctx, second["isolation_group_id"].(string), hw.w.ENIIDs)
}

// TestIsolateWithSSHAndNACL: the primary ENI gets the tcp/22-only group,
// the others the empty one, and the subnet's own ACL denies the host.
func TestIsolateWithSSHAndNACL(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	out, _, err := hostRun(ctx, hw.isolateAction(), "cr-ssh", "isolate", engine.Params{
		"instance_id": hw.w.InstanceID, "allow_ssh_from": "198.51.100.7", "nacl": true, "revoke_sessions": false,
	})
	if err != nil {
		t.Fatalf("isolate: %v\nsubsteps: %v", err, out["substeps"])
	}
	sshID, iso := out["ssh_group_id"].(string), out["isolation_group_id"].(string)
	if got, _ := hw.check.ENIsInGroup(ctx, sshID); !equalStrings(got, []string{hw.w.PrimaryENI}) {
		t.Errorf("ENIs in the ssh group: got %v, want [%s]", got, hw.w.PrimaryENI)
	}
	if got, _ := hw.check.ENIsInGroup(ctx, iso); !equalStrings(got, []string{hw.w.SecondaryENI}) {
		t.Errorf("ENIs in the isolation group: got %v, want [%s]", got, hw.w.SecondaryENI)
	}
	sg := hw.group(t, ctx, sshID)
	if len(sg.IpPermissions) != 1 || aws.ToInt32(sg.IpPermissions[0].FromPort) != 22 || aws.ToInt32(sg.IpPermissions[0].ToPort) != 22 ||
		len(sg.IpPermissions[0].IpRanges) != 1 || aws.ToString(sg.IpPermissions[0].IpRanges[0].CidrIp) != "198.51.100.7/32" || len(sg.IpPermissionsEgress) != 0 {
		t.Errorf("ssh group rules: got ingress %+v egress %+v, want only tcp/22 from 198.51.100.7/32", sg.IpPermissions, sg.IpPermissionsEgress)
	}
	if g := hw.group(t, ctx, iso); len(g.IpPermissions)+len(g.IpPermissionsEgress) != 0 {
		t.Errorf("plain isolation group has rules: %+v %+v", g.IpPermissions, g.IpPermissionsEgress)
	}
	if sub := out["substeps"].(map[string]any); sub["revoke-sessions"] != "skipped: revoke_sessions is false" {
		t.Errorf("revoke-sessions: got %v, want skipped", sub["revoke-sessions"])
	}
	hw.assertNACLDenies(t, ctx, hw.w.PrivateIP+"/32")
	if ids := out["nacl_ids"].([]any); len(ids) != 1 || ids[0] != hw.w.NetworkACLIDs[1] {
		t.Errorf("nacl_ids: got %v, want [%s] (the other subnet's ACL only)", ids, hw.w.NetworkACLIDs[1])
	}
}

// assertNACLDenies: the ACL of the other subnet (SubnetIDs[1]) denies
// cidr both ways, numbered before every allow entry; the ACL of the host's
// own subnet, where such an entry could never match, has none.
func (hw *hostWorld) assertNACLDenies(t *testing.T, ctx context.Context, cidr string) {
	t.Helper()
	for i, subnet := range hw.w.SubnetIDs {
		out, err := hw.check.EC2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{
			{Name: aws.String("association.subnet-id"), Values: []string{subnet}},
		}})
		if err != nil || len(out.NetworkAcls) != 1 {
			t.Fatalf("the ACL associated with %s: %v (%d found)", subnet, err, len(out.NetworkAcls))
		}
		for _, egress := range []bool{false, true} {
			deny, firstAllow := int32(-1), int32(32767)
			for _, e := range out.NetworkAcls[0].Entries {
				if aws.ToBool(e.Egress) != egress {
					continue
				}
				n := aws.ToInt32(e.RuleNumber)
				if aws.ToString(e.CidrBlock) == cidr && e.RuleAction == types.RuleActionDeny {
					deny = n
				} else if e.RuleAction == types.RuleActionAllow && n < firstAllow {
					firstAllow = n
				}
			}
			if i == 0 && deny >= 0 {
				t.Errorf("the host's own subnet ACL got a deny for %s (egress=%v), which can never match", cidr, egress)
			}
			if i == 1 && (deny < 0 || deny >= firstAllow) {
				t.Errorf("other subnet, egress=%v: deny entry for %s numbered %d, first allow %d; want a deny before every allow", egress, cidr, deny, firstAllow)
			}
		}
	}
}

// failingIAM fails PutRolePolicy, to show one failed part neither stops
// nor hides the others.
type failingIAM struct{ isolateIAM }

func (failingIAM) PutRolePolicy(context.Context, *iam.PutRolePolicyInput, ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error) {
	return nil, errors.New("AccessDenied: not allowed to iam:PutRolePolicy")
}

func TestIsolateReportsAFailedPartAndDoesTheRest(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	a := hw.isolateAction()
	apis := a.apis
	a.apis = func(region string) hostAPIs { h := apis(region); h.iam = failingIAM{h.iam}; return h }
	out, ev, err := hostRun(ctx, a, "cr-fail", "isolate", engine.Params{"instance_id": hw.w.InstanceID, "revoke_sessions": true})
	if err == nil || !strings.Contains(err.Error(), "1 part(s) failed (revoke-sessions)") || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("error: got %v, want one naming revoke-sessions and its cause", err)
	}
	if engine.IsRetryable(err) {
		t.Errorf("an access denial was marked retryable")
	}
	sub := out["substeps"].(map[string]any)
	if !strings.HasPrefix(sub["revoke-sessions"].(string), "error: ") || sub["security-groups"] != "done" || sub["tags"] != "done" {
		t.Errorf("substeps: got %v, want revoke-sessions error and the rest done", sub)
	}
	hw.assertIsolated(t, ctx, out["isolation_group_id"].(string), hw.w.ENIIDs)
	recorded := map[string]string{}
	for _, d := range ev.EventsNamed("substep") {
		recorded[d["name"].(string)] = d["status"].(string)
	}
	if len(recorded) != len(sub) || !strings.HasPrefix(recorded["revoke-sessions"], "error: ") || recorded["nacl"] != sub["nacl"] {
		t.Errorf("custody substep events: got %v, want one per part as in the output %v", recorded, sub)
	}
	if tags := tagMap(hw.instance(t, ctx).Tags); tags["firebreak:status"] != "isolation-incomplete" {
		t.Errorf("status tag: got %q, want isolation-incomplete", tags["firebreak:status"])
	}
}

func TestParseExaminerCIDR(t *testing.T) {
	tests := []struct {
		name, in, want, wantErr string
	}{
		{name: "empty", in: ""},
		{name: "host", in: "198.51.100.7", want: "198.51.100.7/32"},
		{name: "range masked", in: "10.1.2.3/24", want: "10.1.2.0/24"},
		{name: "anywhere", in: "0.0.0.0/0", wantErr: "too much of the internet"},
		{name: "garbage", in: "office", wantErr: "not an IPv4 CIDR"},
		{name: "ipv6", in: "2001:db8::/64", wantErr: "not an IPv4 CIDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok, err := parseExaminerCIDR(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error: got %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || (tt.want == "") == ok || (ok && p.String() != tt.want) {
				t.Errorf("got %v %v %v, want %q", p, ok, err, tt.want)
			}
		})
	}
}

// TestIsolateOrder reads the custody order: the pre-change state is stored
// before the first change; the host leaves its Auto Scaling group before
// its network is cut (a failing health check must not get it replaced and
// terminated); every ENI passes through the conversion group on its way
// to the isolation group.
func TestIsolateOrder(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	out, ev, err := hostRun(ctx, hw.isolateAction(), "cr-order", "isolate", engine.Params{"instance_id": hw.w.InstanceID, "revoke_sessions": true})
	if err != nil {
		t.Fatalf("isolate: %v", err)
	}
	log := ev.Log()
	first := func(match func(enginetest.Entry) bool) int {
		for i, e := range log {
			if match(e) {
				return i
			}
		}
		return -1
	}
	call := func(c string) func(enginetest.Entry) bool {
		return func(e enginetest.Entry) bool {
			return e.Op == "event" && e.Name == "aws-change" && e.Detail["call"] == c
		}
	}
	state := first(func(e enginetest.Entry) bool { return e.Op == "put" && e.Name == "pre-isolation-state.json" })
	change := first(func(e enginetest.Entry) bool { return e.Op == "event" && e.Name == "aws-change" })
	detach, swap := first(call("autoscaling:DetachInstances")), first(call("ec2:ModifyNetworkInterfaceAttribute"))
	if state < 0 || change < 0 || state > change {
		t.Errorf("pre-isolation state stored at %d, first change at %d: want the state first", state, change)
	}
	if detach < 0 || swap < 0 || detach > swap {
		t.Errorf("ASG detach at %d, first group swap at %d: want the detach first", detach, swap)
	}
	conv, iso := out["conversion_group_id"].(string), out["isolation_group_id"].(string)
	moves := map[string][]string{}
	for _, e := range log {
		if call("ec2:ModifyNetworkInterfaceAttribute")(e) {
			eni := e.Detail["network_interface_id"].(string)
			moves[eni] = append(moves[eni], e.Detail["groups"].([]string)[0])
		}
	}
	for _, eni := range hw.w.ENIIDs {
		if got := moves[eni]; len(got) != 2 || got[0] != conv || got[1] != iso {
			t.Errorf("ENI %s moved through %v, want [%s %s] (conversion, then isolation)", eni, got, conv, iso)
		}
	}
}

// TestIsolateReplacesTheProfile: with replacement_profile the instance
// ends with that profile, and the sessions revoked are those of the old
// role, not the replacement's.
func TestIsolateReplacesTheProfile(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	name := "fb-quarantine-" + hw.w.Suffix
	ip, err := hw.check.IAM.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := hostRun(ctx, hw.isolateAction(), "cr-repl", "isolate", engine.Params{
		"instance_id": hw.w.InstanceID, "replacement_profile": name, "revoke_sessions": true,
	})
	if err != nil {
		t.Fatalf("isolate: %v\nsubsteps: %v", err, out["substeps"])
	}
	// Read through the associations: moto's DescribeInstances keeps showing
	// the launch profile after ReplaceIamInstanceProfileAssociation.
	assoc, err := hw.check.EC2.DescribeIamInstanceProfileAssociations(ctx, &ec2.DescribeIamInstanceProfileAssociationsInput{
		Filters: []types.Filter{{Name: aws.String("instance-id"), Values: []string{hw.w.InstanceID}}},
	})
	if err != nil || len(assoc.IamInstanceProfileAssociations) != 1 ||
		aws.ToString(assoc.IamInstanceProfileAssociations[0].IamInstanceProfile.Arn) != aws.ToString(ip.InstanceProfile.Arn) {
		t.Errorf("profile associations: got %+v (err %v), want one, of %s", assoc, err, aws.ToString(ip.InstanceProfile.Arn))
	}
	hw.assertRevoked(t, ctx)
	if got := out["revoked_roles"].([]any); len(got) != 1 || got[0] != hw.w.RoleName {
		t.Errorf("revoked_roles: got %v, want [%s]", got, hw.w.RoleName)
	}
}

// blindEC2 does not see the groups on its first DescribeSecurityGroups
// call, as an isolate that lost the race to create them would not.
type blindEC2 struct {
	isolateEC2
	calls int
}

func (b *blindEC2) DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, opts ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	b.calls++
	if b.calls == 1 {
		return &ec2.DescribeSecurityGroupsOutput{}, nil
	}
	return b.isolateEC2.DescribeSecurityGroups(ctx, in, opts...)
}

// TestEnsureGroupLosesTheCreateRace: the group exists (another host's
// isolate made it) but was not seen; the create fails as a duplicate and
// the existing group is taken, with its rules settled.
func TestEnsureGroupLosesTheCreateRace(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	api := hw.clients.EC2("")
	winner, err := ensureGroup(ctx, api, enginetest.NewEvidence(), hw.w.VPCID, "cr-a", isolationSpec())
	if err != nil {
		t.Fatalf("first ensureGroup: %v", err)
	}
	ev := enginetest.NewEvidence()
	got, err := ensureGroup(ctx, &blindEC2{isolateEC2: api}, ev, hw.w.VPCID, "cr-b", isolationSpec())
	if err != nil || got != winner {
		t.Fatalf("ensureGroup after a lost race: got %q, %v; want %q", got, err, winner)
	}
	if n := len(ev.EventsNamed("aws-change")); n != 0 {
		t.Errorf("the loser recorded %d changes, want none (it created nothing)", n)
	}
	if names := hw.firebreakGroups(t, ctx); len(names) != 1 {
		t.Errorf("groups: got %v, want one", names)
	}
}

// staleACL shows the ACL as it was before another host's isolate added
// its entries, on the first DescribeNetworkAcls call only.
type staleACL struct {
	isolateEC2
	calls int
}

func (s *staleACL) DescribeNetworkAcls(ctx context.Context, in *ec2.DescribeNetworkAclsInput, opts ...func(*ec2.Options)) (*ec2.DescribeNetworkAclsOutput, error) {
	out, err := s.isolateEC2.DescribeNetworkAcls(ctx, in, opts...)
	s.calls++
	if err == nil && s.calls == 1 {
		for i := range out.NetworkAcls {
			var kept []types.NetworkAclEntry
			for _, e := range out.NetworkAcls[i].Entries {
				if e.RuleAction != types.RuleActionDeny || aws.ToInt32(e.RuleNumber) == 32767 {
					kept = append(kept, e)
				}
			}
			out.NetworkAcls[i].Entries = kept
		}
	}
	return out, err
}

// TestNACLDenyRetriesATakenRuleNumber: two hosts of one subnet denied at
// the same moment pick the same free rule number; the second reads the
// ACL again and takes the next one.
func TestNACLDenyRetriesATakenRuleNumber(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	api := hw.clients.EC2("")
	other := hostAddr{subnet: hw.w.SubnetIDs[0], ip: "10.42.1.250"}
	if _, err := denyInNACL(ctx, api, enginetest.NewEvidence(), hw.w.VPCID, []hostAddr{other}); err != nil {
		t.Fatalf("denying the other host: %v", err)
	}
	if _, err := denyInNACL(ctx, &staleACL{isolateEC2: api}, enginetest.NewEvidence(), hw.w.VPCID, []hostAddr{{subnet: hw.w.SubnetIDs[0], ip: hw.w.PrivateIP}}); err != nil {
		t.Fatalf("denying with a stale view: %v", err)
	}
	hw.assertNACLDenies(t, ctx, hw.w.PrivateIP+"/32")
	hw.assertNACLDenies(t, ctx, "10.42.1.250/32")
}

func TestIsolateBadInputChangesNothing(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	tests := []struct {
		name    string
		params  engine.Params
		wantErr string
	}{
		{"unknown instance", engine.Params{"instance_id": "i-0000000000000dead"}, `"i-0000000000000dead"`},
		{"ssh from anywhere", engine.Params{"instance_id": hw.w.InstanceID, "allow_ssh_from": "0.0.0.0/0"}, "too much of the internet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ev, err := hostRun(ctx, hw.isolateAction(), "cr-bad", "isolate", tt.params)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || engine.IsRetryable(err) {
				t.Fatalf("error: got %v, want a non-retryable one containing %s", err, tt.wantErr)
			}
			if n := len(ev.EventsNamed("aws-change")); n != 0 {
				t.Errorf("%d changes recorded, want none", n)
			}
		})
	}
	if got := hw.firebreakGroups(t, ctx); len(got) != 0 {
		t.Errorf("groups made: %v", got)
	}
}

// TestIsolateTwoHostsOfOneVPCAtOnce runs two isolates side by side, as a
// for_each step does: both succeed and the VPC gets one group of each kind.
func TestIsolateTwoHostsOfOneVPCAtOnce(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	run, err := hw.check.EC2.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String(hw.w.AMIID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: types.InstanceTypeT3Micro,
		SubnetId: aws.String(hw.w.SubnetIDs[0]), SecurityGroupIds: []string{hw.w.WebGroupID},
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{hw.w.InstanceID, aws.ToString(run.Instances[0].InstanceId)}
	errs := make(chan error, len(ids))
	for _, id := range ids {
		go func() {
			_, _, err := hostRun(ctx, hw.isolateAction(), "cr-two", "isolate", engine.Params{"instance_id": id, "nacl": true, "revoke_sessions": true})
			errs <- err
		}()
	}
	for range ids {
		if err := <-errs; err != nil {
			t.Errorf("isolate: %v", err)
		}
	}
	if got := hw.firebreakGroups(t, ctx); len(got) != 2 {
		t.Errorf("groups: got %v, want one conversion and one isolation group", got)
	}
}
