package ec2

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsperm"
)

// release undoes isolate for a false positive, from the state isolate
// recorded: its previous_state output when given, else the prev tags it
// left on the instance, its ENIs and volumes. It is idempotent: setting a
// group list or an attribute to what it already is changes nothing.
//
// The host rejoins its Auto Scaling group and load balancers last, once
// its network and profile are back, so their health checks find it well.
// It leaves the revoke policy on the role (not_restored says so).
type release struct {
	apis   func(region string) hostAPIs
	region func(region string) string
}

var _ engine.Action = (*release)(nil)

func registerRelease(r *engine.Registry, c *awsapi.Clients) {
	r.Register(&release{apis: clientAPIs(c), region: c.Region})
}

// releaseParams declare release's parameters.
type releaseParams struct {
	InstanceID    string         `param:"instance_id,required"`
	Region        string         `param:"region" default:""`
	PreviousState map[string]any `param:"previous_state" doc:"the isolate step's previous_state output; empty: read the prev tags isolate left on the resources"`
}

func (*release) Spec() engine.ActionSpec {
	calls := []string{
		"ec2:DescribeInstances", "ec2:DescribeInstanceAttribute", "ec2:DescribeVolumes", "ec2:DescribeNetworkInterfaces",
		"ec2:ModifyNetworkInterfaceAttribute", "ec2:ModifyInstanceAttribute", "ec2:DescribeIamInstanceProfileAssociations",
		"ec2:AssociateIamInstanceProfile", "ec2:ReplaceIamInstanceProfileAssociation", "ec2:DescribeNetworkAcls",
		"ec2:DeleteNetworkAclEntry", "ec2:CreateTags", "ec2:DeleteTags", "autoscaling:DescribeAutoScalingInstances",
		"autoscaling:AttachInstances", "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:RegisterTargets",
		"elasticloadbalancing:RegisterInstancesWithLoadBalancer",
	}
	return engine.ActionSpec{
		Name:    "release",
		Summary: "Undo isolate (a false positive): original groups on every ENI, termination protection, shutdown behaviour, DeleteOnTermination, instance profile, Auto Scaling group and load balancers",
		Params:  engine.ParamsOf[releaseParams](),
		Outputs: []engine.Output{
			{Name: "restored_groups", Type: engine.TypeMap, Doc: "ENI id -> the group ids put back", Headline: true},
			{Name: "substeps", Type: engine.TypeMap},
			{Name: "not_restored", Type: engine.TypeList, Doc: "what release leaves to the responder: the revoke policy on the role", Headline: true},
		},
		Calls: calls,
		// Restoring the instance's own profile passes its role.
		Permissions: awsperm.ForCalls(calls, "iam:PassRole"),
		Grants:      []engine.Grant{awsperm.PassOwnRolesToEC2},
		Mutating:    true,
	}
}

func (a *release) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := engine.Decode[releaseParams](in.Params)
	if err != nil {
		return nil, fmt.Errorf("release: %w (nothing was changed)", err)
	}
	id, region := p.InstanceID, a.region(p.Region)
	apis := a.apis(region)
	inst, st, err := a.state(ctx, apis.ec2, p.PreviousState, id, region)
	if err != nil {
		return nil, fmt.Errorf("release: %w (nothing was changed)", err)
	}
	steps := newSubsteps(in.Evidence)
	out := engine.Outputs{"restored_groups": map[string]any{}}
	restoreHost(ctx, steps, apis, in.Evidence, inst, st, out)
	rejoinTraffic(ctx, steps, apis, in.Evidence, st)
	steps.run(ctx, "tags", "ec2:CreateTags", func() error { return releaseTags(ctx, apis.ec2, in.Evidence, st, in.CaseID, steps.ok()) })
	out["substeps"], out["not_restored"] = steps.asMap(), notRestored(st)
	return out, steps.err("release")
}

// restoreHost puts back the groups of every ENI, the attributes and the
// instance profile, and removes the ACL entries.
func restoreHost(ctx context.Context, steps *substeps, apis hostAPIs, ev engine.Evidence, inst *types.Instance, st *preState, out engine.Outputs) {
	id := st.InstanceID
	steps.run(ctx, "security-groups", "ec2:ModifyNetworkInterfaceAttribute", func() error {
		restored, err := restoreGroups(ctx, apis.ec2, ev, st)
		out["restored_groups"] = restored
		return err
	})
	steps.run(ctx, "termination-protection", "ec2:ModifyInstanceAttribute", func() error {
		return modifyInstance(ctx, apis.ec2, ev, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id),
			DisableApiTermination: &types.AttributeBooleanValue{Value: aws.Bool(st.DisableAPITermination)}},
			map[string]any{"instance_id": id, "disable_api_termination": st.DisableAPITermination})
	})
	steps.runUnless(ctx, whyNot(st.ShutdownBehavior == "", "the recorded state has no shutdown behaviour"), "shutdown-behavior", "ec2:ModifyInstanceAttribute", func() error {
		return setShutdownBehavior(ctx, apis.ec2, ev, id, st.ShutdownBehavior)
	})
	steps.runUnless(ctx, whyNot(len(st.Volumes) == 0, "the recorded state has no volume"), "delete-on-termination", "ec2:ModifyInstanceAttribute", func() error {
		return setDeleteOnTermination(ctx, apis.ec2, ev, id, st.Volumes, func(dev string) bool { return st.DeleteOnTermination[dev] })
	})
	steps.runUnless(ctx, whyNot(st.InstanceProfileARN == "", "the instance had no profile before isolation"), "instance-profile", "ec2:AssociateIamInstanceProfile", func() error {
		return swapProfile(ctx, apis.ec2, ev, id, st.InstanceProfileARN)
	})
	steps.run(ctx, "nacl", "ec2:DeleteNetworkAclEntry", func() error {
		return removeNACLDenies(ctx, apis.ec2, ev, aws.ToString(inst.VpcId), hostAddrs(inst))
	})
}

// rejoinTraffic comes last, once the host's network and profile are back,
// so the health checks of its group and load balancers find it well.
func rejoinTraffic(ctx context.Context, steps *substeps, apis hostAPIs, ev engine.Evidence, st *preState) {
	id := st.InstanceID
	steps.runUnless(ctx, whyNot(st.AutoScalingGroup == "", "was in no Auto Scaling group"), "auto-scaling", "autoscaling:AttachInstances", func() error {
		return rejoinASG(ctx, apis.asg, ev, id, st.AutoScalingGroup)
	})
	steps.runUnless(ctx, whyNot(len(st.TargetGroups)+len(st.ClassicELBs) == 0, "was registered with no load balancer"), "load-balancers", "elasticloadbalancing:RegisterTargets", func() error {
		return rejoinLoadBalancers(ctx, apis, ev, id, st.TargetGroups, st.ClassicELBs)
	})
}

// whyNot returns why when skip is true, else "".
func whyNot(skip bool, why string) string {
	if skip {
		return why
	}
	return ""
}

// state is the pre-isolation state: the parameter when given, else the
// prev tags. Live groups of an ENI without prev tags are never taken for
// its original groups: they are the isolation group.
func (a *release) state(ctx context.Context, api isolateEC2, param map[string]any, id, region string) (*types.Instance, *preState, error) {
	inst, st, err := describeHost(ctx, api, id, region)
	if err != nil {
		return nil, nil, err
	}
	if len(param) > 0 {
		given, err := preStateFromMap(param)
		if err != nil {
			return nil, nil, fmt.Errorf("previous_state is not the isolate step's previous_state output: %w", err)
		}
		if given.InstanceID != id {
			return nil, nil, fmt.Errorf("previous_state is of instance %q, not %q: pass the isolate step of this instance", given.InstanceID, id)
		}
		return inst, given, nil
	}
	if !st.FromTags {
		return nil, nil, fmt.Errorf("instance %q carries no pre-isolation state (tag %q): pass previous_state from the isolate step", id, prevTagAPITermination)
	}
	for eni := range st.Groups {
		if !st.taggedENIs[eni] {
			delete(st.Groups, eni)
		}
	}
	return inst, st, nil
}

func restoreGroups(ctx context.Context, api isolateEC2, ev engine.Evidence, st *preState) (map[string]any, error) {
	restored := map[string]any{}
	for _, eni := range engine.SortedKeys(st.Groups) {
		groups := st.Groups[eni]
		if len(groups) == 0 {
			continue
		}
		if _, err := api.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(eni), Groups: groups}); err != nil {
			return restored, fmt.Errorf("putting %q back into %q: %w", eni, groups, awsapi.Classify(err))
		}
		if err := awsapi.Change(ctx, ev, "ec2:ModifyNetworkInterfaceAttribute", map[string]any{"network_interface_id": eni, "groups": groups}); err != nil {
			return restored, err
		}
		restored[eni] = stringsAny(groups)
	}
	return restored, nil
}

func notRestored(st *preState) []any {
	out := []any{}
	if st.InstanceProfileARN != "" {
		out = append(out, "inline policy "+revokePolicyName+" on the profile's roles (harmless to new sessions; delete it when the case is closed)")
	}
	return out
}
