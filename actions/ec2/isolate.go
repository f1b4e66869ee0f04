package ec2

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsperm"
)

// isolate contains a compromised instance while keeping it, and its
// evidence, alive. Every part is idempotent: a rerun finds its groups by
// name, its ACL entries by address, and the pre-isolation state in the
// prev tags it wrote before the first change.
//
// The swap through the allow-all conversion group (IPv4 and IPv6) cuts the
// host's tracked connections, with one limit AWS sets: flows that reach the
// ENI through a Network Load Balancer, a NAT gateway, a Transit Gateway, a
// VPC endpoint or a Gateway Load Balancer are tracked by those services and
// survive the swap; the nacl option, being stateless, cuts those of them
// that cross a subnet boundary.
type isolate struct {
	apis   func(region string) hostAPIs
	region func(region string) string
	now    func() time.Time
}

var _ engine.Action = (*isolate)(nil)

func registerIsolate(r *engine.Registry, c *awsapi.Clients) {
	r.Register(&isolate{apis: clientAPIs(c), region: c.Region, now: time.Now})
}

var isolateCalls = []string{
	"ec2:DescribeInstances", "ec2:DescribeInstanceAttribute", "ec2:DescribeVolumes", "ec2:DescribeNetworkInterfaces",
	"autoscaling:DescribeAutoScalingInstances", "autoscaling:DescribeAutoScalingGroups", "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth",
	"elasticloadbalancing:DescribeLoadBalancers", "ec2:CreateTags", "ec2:ModifyInstanceAttribute",
	"autoscaling:SetInstanceProtection", "autoscaling:DetachInstances", "elasticloadbalancing:DeregisterTargets",
	"elasticloadbalancing:DeregisterInstancesFromLoadBalancer", "ec2:DescribeSecurityGroups", "ec2:CreateSecurityGroup",
	"ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress",
	"ec2:ModifyNetworkInterfaceAttribute", "ec2:DescribeIamInstanceProfileAssociations", "ec2:DisassociateIamInstanceProfile",
	"ec2:AssociateIamInstanceProfile", "ec2:ReplaceIamInstanceProfileAssociation", "iam:GetInstanceProfile", "iam:PutRolePolicy",
	"ec2:DescribeNetworkAcls", "ec2:CreateNetworkAclEntry", "sts:GetCallerIdentity",
}

// isolateParams declare isolate's parameters.
type isolateParams struct {
	InstanceID         string `param:"instance_id,required"`
	Region             string `param:"region" default:"" doc:"the instance's region; empty: the run's default"`
	AllowSSHFrom       string `param:"allow_ssh_from" default:"" doc:"IPv4 CIDR allowed to reach tcp/22 on the primary interface (for memory capture); empty: nothing"`
	ReplacementProfile string `param:"replacement_profile" default:"" doc:"instance profile (name or ARN) to put in place of the current one; empty: remove it"`
	RevokeSessions     bool   `param:"revoke_sessions" default:"true" doc:"deny the role's sessions issued before now (other instances of the role recover at their next credential refresh)"`
	Force              bool   `param:"force" default:"false" doc:"revoke the role's sessions even when the run itself acts as that role (its own session stops working)"`
	NACL               bool   `param:"nacl" default:"false" doc:"also deny the host's addresses, in and out, in the network ACLs of the other subnets of its VPC (cuts lateral movement across subnets)"`
}

func (*isolate) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name:    "isolate",
		Summary: "Contain an instance: record its state, protect it and its volumes, take it out of its Auto Scaling group and load balancers, cut every ENI off (tracked connections included: IPv4 and IPv6; flows through an NLB, NAT gateway, Transit Gateway, VPC endpoint or GWLB stay tracked by AWS, see nacl), pull its role",
		Params:  engine.ParamsOf[isolateParams](),
		Outputs: []engine.Output{
			{Name: "isolation_group_id", Type: engine.TypeString, Doc: "the group without rules the ENIs end in", Headline: true},
			{Name: "ssh_group_id", Type: engine.TypeString, Doc: "with allow_ssh_from: the group of the primary ENI", Headline: true},
			{Name: "conversion_group_id", Type: engine.TypeString},
			{Name: "previous_groups", Type: engine.TypeMap, Doc: "ENI id -> its group ids before isolation"},
			{Name: "previous_state", Type: engine.TypeMap, Doc: "everything isolate changed, as it was; release takes it"},
			{Name: "state_artifact", Type: engine.TypeString, Doc: "URI of the pre-isolation state artifact"},
			{Name: "substeps", Type: engine.TypeMap, Doc: "part -> done, skipped: why, or error: why"},
			{Name: "revoked_roles", Type: engine.TypeList, Headline: true},
			{Name: "nacl_ids", Type: engine.TypeList, Headline: true},
		},
		Calls: isolateCalls,
		// The calls' own permissions, and iam:PassRole, which associating
		// a replacement profile needs.
		Permissions: awsperm.ForCalls(isolateCalls, "iam:PassRole"),
		Grants:      []engine.Grant{awsperm.InlinePolicyWrites("RevokeSessions", "iam:PutRolePolicy"), awsperm.PassOwnRolesToEC2},
		Mutating:    true,
	}
}

// isolation carries one run of isolate between its parts.
type isolation struct {
	in     *engine.StepInput
	apis   hostAPIs
	inst   *types.Instance
	state  *preState
	member membership
	ssh    netip.Prefix
	hasSSH bool
	steps  *substeps
	out    engine.Outputs
}

func (a *isolate) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := engine.Decode[isolateParams](in.Params)
	if err != nil {
		return nil, fmt.Errorf("isolate: %w (no isolation change was made)", err)
	}
	id := p.InstanceID
	ssh, hasSSH, err := parseExaminerCIDR(p.AllowSSHFrom)
	if err != nil {
		return nil, fmt.Errorf("isolate: %w", err)
	}
	region := a.region(p.Region)
	x := &isolation{in: in, apis: a.apis(region), ssh: ssh, hasSSH: hasSSH, steps: newSubsteps(in.Evidence), out: engine.Outputs{
		// Every declared output is present, empty when its part did not run.
		"isolation_group_id": "", "ssh_group_id": "", "conversion_group_id": "", "revoked_roles": []any{}, "nacl_ids": []any{},
	}}
	if x.inst, x.state, err = describeHost(ctx, x.apis.ec2, id, region); err != nil {
		return nil, fmt.Errorf("isolate: %w (no isolation change was made)", err)
	}
	x.lookupMembership(ctx)
	if err := x.recordState(ctx); err != nil {
		return nil, fmt.Errorf("isolate: %w (no isolation change was made)", err)
	}
	x.protect(ctx)
	x.leaveTraffic(ctx)
	x.cutNetwork(ctx)
	x.pullCredentials(ctx, p.ReplacementProfile, p.RevokeSessions, p.Force, a.now())
	x.denyNACL(ctx, p.NACL)
	x.tag(ctx)
	x.out["substeps"] = x.steps.asMap()
	return x.out, x.steps.err("isolate")
}

// lookupMembership finds the ASG and load balancers before anything is
// changed, so the recorded state has them. A failed lookup becomes the
// failure of the part that needed it.
func (x *isolation) lookupMembership(ctx context.Context) {
	m, err := findMembership(ctx, x.apis, x.state.InstanceID, x.state.VPCID)
	if err != nil {
		x.steps.run(ctx, "lookup-membership", "autoscaling:DescribeAutoScalingInstances", func() error { return err })
	}
	x.member = m
	if x.state.AutoScalingGroup == "" {
		x.state.AutoScalingGroup = m.asg
	}
	if !x.state.trafficFromTags {
		x.state.TargetGroups, x.state.ClassicELBs = m.targetGroups, m.classicELBs
	}
}

// recordState stores the pre-change state, as an artifact and as prev
// tags, before the first change: without it release could not undo.
func (x *isolation) recordState(ctx context.Context) error {
	art, err := awsapi.PutJSON(ctx, x.in.Evidence, engine.ArtifactMeta{
		Name: "pre-isolation-state.json", Kind: "pre-isolation-state",
		Source: map[string]string{"instance_id": x.state.InstanceID, "region": x.state.Region},
	}, x.state)
	if err != nil {
		return err
	}
	if err := x.state.writePrevTags(ctx, x.apis.ec2); err != nil {
		return fmt.Errorf("recording the pre-isolation state in tags: %w", err)
	}
	prev := map[string]any{}
	for eni, gs := range x.state.Groups {
		prev[eni] = stringsAny(gs)
	}
	x.out["state_artifact"], x.out["previous_groups"], x.out["previous_state"] = art.URI, prev, x.state.asMap()
	return nil
}

func stringsAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

var _ engine.StepIAMer = (*isolate)(nil)

// StepIAM: a step with revoke_sessions: false as written writes no inline
// policy. Otherwise the role is the one the instance's profile holds, known
// only when the run reads the instance: the grant stays on every role.
func (*isolate) StepIAM(p engine.Params, _ engine.IAMEvidence) engine.StepIAM {
	if v, written := p["revoke_sessions"]; written && v == false {
		return engine.StepIAM{Drop: []string{"iam:PutRolePolicy"}}
	}
	return engine.StepIAM{}
}
