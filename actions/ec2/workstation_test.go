package ec2

import (
	"context"
	"errors"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// withDefaults fills the params a doesn't get from the test with the
// action's declared defaults, as the runner does.
func withDefaults(a engine.Action, p engine.Params) engine.Params {
	for _, d := range a.Spec().Params {
		if _, ok := p[d.Name]; !ok && d.Default != nil {
			p[d.Name], _ = engine.Coerce(d.Type, d.Default)
		}
	}
	return p
}

func newWorkstationAction(w *snapWorld) engine.Action {
	reg := engine.NewRegistry()
	Register(reg, w.clients)
	a, _ := reg.Lookup("create-workstation")
	return a
}

// wsWorld is the snapshot world with the case's snapshots taken by the
// real snapshot action, and a snapshot of another case beside them.
func wsWorld(t *testing.T, caseID string) (*snapWorld, []string) {
	t.Helper()
	w := newSnapWorld(t)
	snap := newSnapshotAction(w)
	in, _ := stepInput(caseID, withDefaults(snap, engine.Params{"instance_id": w.instance}))
	mustRun(t, snap, in)
	other, _ := stepInput("cr-other", withDefaults(snap, engine.Params{"instance_id": w.instance}))
	mustRun(t, snap, other)
	var ids []string
	for id := range w.caseSnapshots(t, caseID) {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return w, ids
}

func wsParams(w *snapWorld, t *testing.T, caseID string) engine.Params {
	imgs, err := w.ec2.DescribeImages(testenv.Context(t), &ec2.DescribeImagesInput{})
	if err != nil || len(imgs.Images) == 0 {
		t.Fatalf("DescribeImages: %v", err)
	}
	return engine.Params{"ami_id": aws.ToString(imgs.Images[0].ImageId), "examiner_cidr": "198.51.100.7/32",
		"case_id": caseID, "evidence_bucket": "case-evidence"}
}

func TestCreateWorkstation(t *testing.T) {
	w, snaps := wsWorld(t, "cr-ws")
	ctx := testenv.Context(t)
	a := newWorkstationAction(w)
	in, ev := stepInput("cr-run", withDefaults(a, wsParams(w, t, "cr-ws")))
	out := mustRun(t, a, in)
	inst := wsDescribe(t, ctx, w, aws.ToString(outString(out, "instance_id")))
	if inst.State.Name != types.InstanceStateNameRunning || aws.ToString(inst.PrivateIpAddress) != out["private_ip"] || out["private_ip"] == "" {
		t.Errorf("instance: state %s ip %s, outputs %v; want running with the output's private ip", inst.State.Name, aws.ToString(inst.PrivateIpAddress), out)
	}
	if tg := tagsOf(inst.Tags); tg["firebreak:case"] != "cr-ws" || tg["firebreak:role"] != "workstation" {
		t.Errorf("instance tags: got %v, want firebreak:case=cr-ws firebreak:role=workstation", tg)
	}
	if p := inst.IamInstanceProfile; p == nil || !strings.HasSuffix(aws.ToString(p.Arn), "/firebreak-workstation-cr-ws") {
		t.Errorf("instance profile: got %+v, want firebreak-workstation-cr-ws", p)
	}
	checkWorkstationGroup(t, ctx, w, inst, out)
	checkNoInternet(t, ctx, w, aws.ToString(inst.SubnetId), aws.ToString(inst.VpcId))
	checkEvidenceVolumes(t, ctx, w, inst, snaps, out)
	checkEvidenceRole(t, ctx, w)
	if n := len(eventNames(ev)); n == 0 {
		t.Errorf("no custody events for what was made")
	}
}

func outString(out engine.Outputs, k string) *string { s, _ := out[k].(string); return &s }

func wsDescribe(t *testing.T, ctx context.Context, w *snapWorld, id string) types.Instance {
	t.Helper()
	out, err := w.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil || len(out.Reservations) != 1 {
		t.Fatalf("DescribeInstances %q: %v", id, err)
	}
	return out.Reservations[0].Instances[0]
}

// checkWorkstationGroup: the instance is in the one group, which lets in
// tcp/22 from the examiner and nothing else, and lets out only the VPC.
func checkWorkstationGroup(t *testing.T, ctx context.Context, w *snapWorld, inst types.Instance, out engine.Outputs) {
	t.Helper()
	if len(inst.SecurityGroups) != 1 || aws.ToString(inst.SecurityGroups[0].GroupId) != out["security_group_id"] {
		t.Fatalf("instance groups: got %+v, want only %v", inst.SecurityGroups, out["security_group_id"])
	}
	g, err := w.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{aws.ToString(inst.SecurityGroups[0].GroupId)}})
	if err != nil {
		t.Fatal(err)
	}
	sg := g.SecurityGroups[0]
	if len(sg.IpPermissions) != 1 || !rangesAre(sg.IpPermissions[0], "tcp", 22, "198.51.100.7/32") {
		t.Errorf("ingress: got %s, want only tcp/22 from 198.51.100.7/32", permString(sg.IpPermissions))
	}
	var vpcOut, s3Out int
	for _, p := range sg.IpPermissionsEgress {
		switch {
		case rangesAre(p, "-1", 0, workstationVPCCIDR):
			vpcOut++
		case aws.ToString(p.IpProtocol) == "tcp" && aws.ToInt32(p.FromPort) == 443 && aws.ToInt32(p.ToPort) == 443 && len(p.IpRanges) == 0 &&
			len(p.PrefixListIds) == 1 && aws.ToString(p.PrefixListIds[0].PrefixListId) == s3PrefixList(t, ctx, w):
			s3Out++
		}
	}
	if len(sg.IpPermissionsEgress) != 2 || vpcOut != 1 || s3Out != 1 {
		t.Errorf("egress: got %s, want only the VPC %s and tcp/443 to S3's prefix list", permString(sg.IpPermissionsEgress), workstationVPCCIDR)
	}
}

func s3PrefixList(t *testing.T, ctx context.Context, w *snapWorld) string {
	t.Helper()
	pl, err := w.ec2.DescribePrefixLists(ctx, &ec2.DescribePrefixListsInput{Filters: []types.Filter{
		{Name: aws.String("prefix-list-name"), Values: []string{"com.amazonaws." + w.moto.Region + ".s3"}}}})
	if err != nil || len(pl.PrefixLists) != 1 {
		t.Fatalf("S3 prefix list: %v %v", pl, err)
	}
	return aws.ToString(pl.PrefixLists[0].PrefixListId)
}

func rangesAre(p types.IpPermission, proto string, port int32, cidr string) bool {
	portOK := proto == "-1" || aws.ToInt32(p.FromPort) == port && aws.ToInt32(p.ToPort) == port
	return aws.ToString(p.IpProtocol) == proto && portOK && len(p.IpRanges) == 1 && aws.ToString(p.IpRanges[0].CidrIp) == cidr &&
		len(p.Ipv6Ranges) == 0 && len(p.UserIdGroupPairs) == 0 && len(p.PrefixListIds) == 0
}

func permString(ps []types.IpPermission) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(aws.ToString(p.IpProtocol) + ":")
		for _, r := range p.IpRanges {
			b.WriteString(aws.ToString(r.CidrIp) + " ")
		}
		for _, r := range p.Ipv6Ranges {
			b.WriteString(aws.ToString(r.CidrIpv6) + " ")
		}
	}
	return "[" + b.String() + "]"
}

// checkNoInternet: no internet gateway on the VPC, and no route to one in
// the subnet's route table (its own or the VPC's main one).
func checkNoInternet(t *testing.T, ctx context.Context, w *snapWorld, subnet, vpc string) {
	t.Helper()
	igws, err := w.ec2.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{
		Filters: []types.Filter{{Name: aws.String("attachment.vpc-id"), Values: []string{vpc}}}})
	if err != nil || len(igws.InternetGateways) != 0 {
		t.Errorf("internet gateways on %s: got %d (%v), want none", vpc, len(igws.InternetGateways), err)
	}
	rts, err := w.ec2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}})
	if err != nil || len(rts.RouteTables) == 0 {
		t.Fatalf("route tables of %s: %v", vpc, err)
	}
	for _, rt := range rts.RouteTables {
		for _, r := range rt.Routes {
			gw := aws.ToString(r.GatewayId)
			local := gw == "local" && aws.ToString(r.DestinationCidrBlock) == workstationVPCCIDR
			s3 := strings.HasPrefix(gw, "vpce-") && aws.ToString(r.DestinationPrefixListId) == s3PrefixList(t, ctx, w)
			if !local && !s3 || aws.ToString(r.NatGatewayId) != "" || aws.ToString(r.TransitGatewayId) != "" {
				t.Errorf("route table %s routes %s%s via %q: want only the local route and the S3 endpoint's", aws.ToString(rt.RouteTableId),
					aws.ToString(r.DestinationCidrBlock), aws.ToString(r.DestinationPrefixListId), gw)
			}
		}
	}
	eps, err := w.ec2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}})
	if err != nil || len(eps.VpcEndpoints) != 1 {
		t.Fatalf("endpoints of %s: %v %v, want the S3 one", vpc, eps, err)
	}
	if doc := aws.ToString(eps.VpcEndpoints[0].PolicyDocument); !strings.Contains(doc, "arn:aws:s3:::case-evidence/*") || strings.Contains(strings.ReplaceAll(doc, " ", ""), `"Resource":"*"`) || strings.Contains(doc, "Put") {
		t.Errorf("S3 endpoint policy: got %s, want reads of case-evidence only", doc)
	}
}

// checkEvidenceVolumes: each of the case's snapshots (and no other)
// became a volume in the workstation's zone, attached to it in order.
func checkEvidenceVolumes(t *testing.T, ctx context.Context, w *snapWorld, inst types.Instance, snaps []string, out engine.Outputs) {
	t.Helper()
	ids, _ := out["volume_ids"].([]any)
	if len(ids) != len(snaps) {
		t.Fatalf("volume_ids: got %v, want one per case snapshot %v", ids, snaps)
	}
	for i, id := range ids {
		vs, err := w.ec2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id.(string)}})
		if err != nil {
			t.Fatal(err)
		}
		v := vs.Volumes[0]
		if aws.ToString(v.SnapshotId) != snaps[i] || aws.ToString(v.AvailabilityZone) != aws.ToString(inst.Placement.AvailabilityZone) {
			t.Errorf("volume %s: from %s in %s, want from %s in %s", id, aws.ToString(v.SnapshotId), aws.ToString(v.AvailabilityZone), snaps[i], aws.ToString(inst.Placement.AvailabilityZone))
		}
		if len(v.Attachments) != 1 || aws.ToString(v.Attachments[0].InstanceId) != aws.ToString(inst.InstanceId) || aws.ToString(v.Attachments[0].Device) != workstationDevices[i] {
			t.Errorf("volume %s: attachments %+v, want the workstation at %s", id, v.Attachments, workstationDevices[i])
		}
	}
}

func checkEvidenceRole(t *testing.T, ctx context.Context, w *snapWorld) {
	t.Helper()
	c := iam.NewFromConfig(w.moto.Config())
	p, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("firebreak-workstation-cr-ws"), PolicyName: aws.String(evidencePolicyName)})
	if err != nil {
		t.Fatalf("GetRolePolicy: %v", err)
	}
	doc, _ := url.QueryUnescape(aws.ToString(p.PolicyDocument))
	if !strings.Contains(doc, "arn:aws:s3:::case-evidence/*") || !strings.Contains(doc, "s3:GetObject") || strings.Contains(doc, "s3:Put") {
		t.Errorf("evidence policy: got %s, want read-only access to case-evidence", doc)
	}
}

// TestCreateWorkstationRerunMakesNothing: a second run finds everything by
// tag and name, gives the same outputs, and makes no resource.
func TestCreateWorkstationRerunMakesNothing(t *testing.T) {
	w, _ := wsWorld(t, "cr-again")
	ctx := testenv.Context(t)
	a := newWorkstationAction(w)
	params := withDefaults(a, wsParams(w, t, "cr-again"))
	in, _ := stepInput("cr-run", params)
	first := mustRun(t, a, in)
	before := wsCounts(t, ctx, w, "cr-again")
	in, ev := stepInput("cr-run", params)
	second := mustRun(t, a, in)
	if after := wsCounts(t, ctx, w, "cr-again"); !maps.Equal(before, after) {
		t.Errorf("resources tagged with the case: got %v after the rerun, want %v as before", after, before)
	}
	for _, k := range []string{"instance_id", "private_ip", "vpc_id", "subnet_id", "security_group_id"} {
		if first[k] != second[k] {
			t.Errorf("output %s: rerun gave %v, first run %v", k, second[k], first[k])
		}
	}
	if !slices.Equal(first["volume_ids"].([]any), second["volume_ids"].([]any)) {
		t.Errorf("volume_ids: rerun gave %v, first run %v", second["volume_ids"], first["volume_ids"])
	}
	for i, e := range eventNames(ev) {
		call, _ := details(ev)[i]["call"].(string)
		if e == awsapi.EventChange && call != "iam:PutRolePolicy" {
			t.Errorf("rerun made a change: %s %v", call, details(ev)[i])
		}
	}
	if _, err := w.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{*outString(first, "instance_id")}}); err != nil {
		t.Fatal(err)
	}
	in, _ = stepInput("cr-run", params)
	if _, err := a.Run(ctx, in); err == nil || !strings.Contains(err.Error(), "start it and run again") {
		t.Errorf("a run with the workstation stopped: got %v, want it told to start it", err)
	}
	if before["vpc"] != 1 || before["subnet"] != 1 || before["group"] != 1 || before["instance"] != 1 || before["volume"] != 2 || before["endpoint"] != 1 {
		t.Errorf("first run made %v, want one VPC, subnet, S3 endpoint, group, instance and two evidence volumes", before)
	}
}

// wsCounts counts what carries the case's workstation tags.
func wsCounts(t *testing.T, ctx context.Context, w *snapWorld, caseID string) map[string]int {
	t.Helper()
	f := []types.Filter{{Name: aws.String("tag:firebreak:case"), Values: []string{caseID}}}
	m := map[string]int{}
	vpcs, err1 := w.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: f})
	subnets, err2 := w.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: f})
	groups, err3 := w.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: f})
	insts, err4 := w.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: f})
	eps, err6 := w.ec2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{Filters: f})
	vols, err5 := w.ec2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: append(f, types.Filter{Name: aws.String("tag:firebreak:role"), Values: []string{roleWorkstationEvidence}})})
	if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
		t.Fatal(err)
	}
	m["vpc"], m["subnet"], m["group"], m["volume"], m["endpoint"] = len(vpcs.Vpcs), len(subnets.Subnets), len(groups.SecurityGroups), len(vols.Volumes), len(eps.VpcEndpoints)
	for _, r := range insts.Reservations {
		m["instance"] += len(r.Instances)
	}
	return m
}

func TestCreateWorkstationRefuses(t *testing.T) {
	w := newSnapWorld(t)
	a := newWorkstationAction(w)
	tests := []struct {
		name   string
		params engine.Params
		want   string
	}{
		{"no snapshots", engine.Params{"case_id": "cr-empty"}, "no snapshot is tagged firebreak:case=cr-empty"},
		{"internet-wide ssh", engine.Params{"examiner_cidr": "0.0.0.0/0"}, "not an IPv4 CIDR of /8 or narrower"},
		{"not a cidr", engine.Params{"examiner_cidr": "examiner"}, `examiner_cidr "examiner"`},
		{"bad case id", engine.Params{"case_id": "cr/../x"}, "cannot name a workstation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := wsParams(w, t, "cr-x")
			maps.Copy(p, tt.params)
			in, _ := stepInput("cr-run", withDefaults(a, p))
			if _, err := a.Run(testenv.Context(t), in); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if c := wsCounts(t, testenv.Context(t), w, "cr-empty"); c["vpc"]+c["instance"] != 0 {
		t.Errorf("a refused run made %v", c)
	}
}

// TestCreateWorkstationInAGivenSubnet: with subnet_id the workstation
// makes no network of its own; its group lets out only that VPC's range.
func TestCreateWorkstationInAGivenSubnet(t *testing.T) {
	w, snaps := wsWorld(t, "cr-sub")
	ctx := testenv.Context(t)
	subnets, err := w.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
	if err != nil || len(subnets.Subnets) == 0 {
		t.Fatalf("DescribeSubnets: %v", err)
	}
	sn := subnets.Subnets[0]
	a := newWorkstationAction(w)
	p := wsParams(w, t, "cr-sub")
	p["subnet_id"] = aws.ToString(sn.SubnetId)
	in, _ := stepInput("cr-run", withDefaults(a, p))
	out := mustRun(t, a, in)
	inst := wsDescribe(t, ctx, w, *outString(out, "instance_id"))
	if aws.ToString(inst.SubnetId) != aws.ToString(sn.SubnetId) || aws.ToString(inst.Placement.AvailabilityZone) != aws.ToString(sn.AvailabilityZone) {
		t.Errorf("instance in %s/%s, want the given subnet %s/%s", aws.ToString(inst.SubnetId), aws.ToString(inst.Placement.AvailabilityZone), aws.ToString(sn.SubnetId), aws.ToString(sn.AvailabilityZone))
	}
	if c := wsCounts(t, ctx, w, "cr-sub"); c["vpc"] != 0 || c["subnet"] != 0 || c["endpoint"] != 0 || c["group"] != 1 {
		t.Errorf("made %v, want only a group in the given subnet's VPC", c)
	}
	g, err := w.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{*outString(out, "security_group_id")}})
	if err != nil {
		t.Fatal(err)
	}
	vpc, err := w.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{aws.ToString(sn.VpcId)}})
	if err != nil {
		t.Fatal(err)
	}
	eg := g.SecurityGroups[0].IpPermissionsEgress
	if len(eg) != 1 || !rangesAre(eg[0], "-1", 0, aws.ToString(vpc.Vpcs[0].CidrBlock)) {
		t.Errorf("egress: got %s, want only the VPC's %s", permString(eg), aws.ToString(vpc.Vpcs[0].CidrBlock))
	}
	checkEvidenceVolumes(t, ctx, w, inst, snaps, out)
}

func TestCreateWorkstationPlanChangesNothing(t *testing.T) {
	w, _ := wsWorld(t, "cr-plan")
	ctx := testenv.Context(t)
	a := newWorkstationAction(w).(engine.Planner)
	d, err := a.Plan(ctx, &engine.PlanInput{Check: true, Params: wsParams(w, t, "cr-plan")})
	if err != nil || len(d.Problems) != 0 || len(d.Notes) != 1 || d.Notes[0] != "2 snapshots of case cr-plan to mount" {
		t.Errorf("plan --check: got %+v (%v), want 2 snapshots and no problem", d, err)
	}
	d, err = a.Plan(ctx, &engine.PlanInput{Check: true, Params: wsParams(w, t, "cr-none")})
	if err != nil || len(d.Problems) != 1 || !strings.Contains(d.Problems[0], "no snapshot is tagged") {
		t.Errorf("plan --check of a case without snapshots: got %+v (%v), want that problem", d, err)
	}
	if c := wsCounts(t, ctx, w, "cr-plan"); c["vpc"]+c["group"]+c["instance"]+c["volume"] != 0 {
		t.Errorf("planning made %v", c)
	}
}
