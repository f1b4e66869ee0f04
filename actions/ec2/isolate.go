package ec2

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/sync/errgroup"

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

// isolation carries one run of isolate between its parts, some of which
// run at once: out is written under mu.
type isolation struct {
	in     *engine.StepInput
	apis   hostAPIs
	inst   *types.Instance
	state  *preState
	member membership
	ssh    netip.Prefix
	hasSSH bool
	steps  *substeps
	groups func() (isolationGroups, error) // waits for ensureGroups
	mu     sync.Mutex
	out    engine.Outputs
}

func (x *isolation) set(kv ...any) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for i := 0; i+1 < len(kv); i += 2 {
		x.out[kv[i].(string)] = kv[i+1]
	}
}

// Run contains the instance along the shortest chain of calls that keeps
// its guarantees, the network cut first among the changes that take time:
//
//	DescribeInstances
//	 ├─ the state's reads (attributes, volumes, ENIs) and the ASG and
//	 │  load balancer lookups, at once ─> the state recorded (artifact and
//	 │  prev tags, one CreateTags per distinct tag set, at once)
//	 │    ├─ protection, the role, the NACL entries (each at once)
//	 │    └─ out of the ASG and load balancers ─┐
//	 └─ the groups (found or made, rules set: each group at once) ─┴─ each
//	    ENI through conversion into isolation (the ENIs at once)
//	 ... then the instance's status tags, last.
//
// The state is recorded before the first change to the instance (the
// groups are isolate's own, made or reused by name, and change nothing of
// the instance), and the host leaves its ASG before its network is cut (a
// failing health check must not make the group replace and terminate it).
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
	if x.inst, err = describeInstance(ctx, x.apis.ec2, id); err != nil {
		return nil, fmt.Errorf("isolate: %w (no isolation change was made)", err)
	}
	x.groups = x.startGroups(ctx)
	var member membership
	var memberErr error
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		x.state, err = stateOf(gctx, x.apis.ec2, x.inst, region)
		return err
	})
	g.Go(func() error {
		member, memberErr = findMembership(ctx, x.apis, id, aws.ToString(x.inst.VpcId))
		return nil
	})
	if err := g.Wait(); err != nil {
		x.groups() // no goroutine outlives the step
		return nil, fmt.Errorf("isolate: %w (no change was made to the instance)", err)
	}
	x.useMembership(ctx, member, memberErr)
	if err := x.recordState(ctx); err != nil {
		x.groups()
		return nil, fmt.Errorf("isolate: %w (no change was made to the instance)", err)
	}
	var side sync.WaitGroup
	side.Go(func() { x.protect(ctx) })
	side.Go(func() { x.pullCredentials(ctx, p.ReplacementProfile, p.RevokeSessions, p.Force, a.now()) })
	side.Go(func() { x.denyNACL(ctx, p.NACL) })
	x.leaveTraffic(ctx)
	x.cutNetwork(ctx)
	side.Wait()
	x.tag(ctx)
	x.set("substeps", x.steps.asMap())
	return x.out, x.steps.err("isolate")
}

// useMembership takes the ASG and load balancers found before anything
// was changed, so the recorded state has them. A failed lookup becomes the
// failure of the part that needed it.
func (x *isolation) useMembership(ctx context.Context, m membership, err error) {
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
// tags (at once), before the first change: without it release could not
// undo.
func (x *isolation) recordState(ctx context.Context) error {
	var art engine.Artifact
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		art, err = awsapi.PutJSON(gctx, x.in.Evidence, engine.ArtifactMeta{
			Name: "pre-isolation-state.json", Kind: "pre-isolation-state",
			Source: map[string]string{"instance_id": x.state.InstanceID, "region": x.state.Region},
		}, x.state)
		return err
	})
	g.Go(func() error {
		if err := x.state.writePrevTags(gctx, x.apis.ec2); err != nil {
			return fmt.Errorf("recording the pre-isolation state in tags: %w", err)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	prev := map[string]any{}
	for eni, gs := range x.state.Groups {
		prev[eni] = stringsAny(gs)
	}
	x.set("state_artifact", art.URI, "previous_groups", prev, "previous_state", x.state.asMap())
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
