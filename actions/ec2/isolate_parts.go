package ec2

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// protect keeps the instance and its disks from being destroyed: by an API
// call, by a shutdown from inside the host, by a terminate of the instance.
func (x *isolation) protect(ctx context.Context) {
	id := x.state.InstanceID
	x.steps.run(ctx, "termination-protection", "ec2:ModifyInstanceAttribute", func() error {
		return modifyInstance(ctx, x.apis.ec2, x.in.Evidence, &ec2.ModifyInstanceAttributeInput{
			InstanceId: aws.String(id), DisableApiTermination: &types.AttributeBooleanValue{Value: aws.Bool(true)},
		}, map[string]any{"instance_id": id, "disable_api_termination": true})
	})
	x.steps.run(ctx, "shutdown-behavior", "ec2:ModifyInstanceAttribute", func() error {
		return setShutdownBehavior(ctx, x.apis.ec2, x.in.Evidence, id, "stop")
	})
	if len(x.state.Volumes) == 0 {
		x.steps.skip(ctx, "delete-on-termination", "no EBS volume attached")
		return
	}
	x.steps.run(ctx, "delete-on-termination", "ec2:ModifyInstanceAttribute", func() error {
		return setDeleteOnTermination(ctx, x.apis.ec2, x.in.Evidence, id, x.state.Volumes, func(string) bool { return false })
	})
}

// setShutdownBehavior uses the Attribute/Value form of the call, which AWS
// documents for this attribute: moto ignores the
// InstanceInitiatedShutdownBehavior.Value form (and clears the instance's
// groups instead), so the other form would pass its tests unchanged.
func setShutdownBehavior(ctx context.Context, api isolateEC2, ev engine.Evidence, id, behavior string) error {
	return modifyInstance(ctx, api, ev, &ec2.ModifyInstanceAttributeInput{
		InstanceId: aws.String(id), Attribute: types.InstanceAttributeNameInstanceInitiatedShutdownBehavior, Value: aws.String(behavior),
	}, map[string]any{"instance_id": id, "instance_initiated_shutdown_behavior": behavior})
}

func setDeleteOnTermination(ctx context.Context, api isolateEC2, ev engine.Evidence, id string, volumes map[string]string, flag func(dev string) bool) error {
	var maps []types.InstanceBlockDeviceMappingSpecification
	detail := map[string]any{}
	for _, dev := range engine.SortedKeys(volumes) {
		maps = append(maps, types.InstanceBlockDeviceMappingSpecification{
			DeviceName: aws.String(dev), Ebs: &types.EbsInstanceBlockDeviceSpecification{DeleteOnTermination: aws.Bool(flag(dev))},
		})
		detail[volumes[dev]] = flag(dev)
	}
	return modifyInstance(ctx, api, ev, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), BlockDeviceMappings: maps},
		map[string]any{"instance_id": id, "delete_on_termination": detail})
}

func modifyInstance(ctx context.Context, api isolateEC2, ev engine.Evidence, in *ec2.ModifyInstanceAttributeInput, detail map[string]any) error {
	if _, err := api.ModifyInstanceAttribute(ctx, in); err != nil {
		return awsapi.Classify(err)
	}
	return awsapi.Change(ctx, ev, "ec2:ModifyInstanceAttribute", detail)
}

// leaveTraffic takes the host out of its Auto Scaling group before the
// network is cut (a failing health check must not make the group replace
// and terminate it), and out of its load balancers.
func (x *isolation) leaveTraffic(ctx context.Context) {
	id := x.state.InstanceID
	if x.member.asg == "" {
		x.steps.skip(ctx, "auto-scaling", "not in an Auto Scaling group")
	} else {
		x.steps.run(ctx, "auto-scaling", "autoscaling:DetachInstances", func() error {
			return detachASG(ctx, x.apis.asg, x.in.Evidence, id, x.member.asg)
		})
	}
	if len(x.member.targetGroups)+len(x.member.classicELBs) == 0 {
		x.steps.skip(ctx, "load-balancers", "registered with no load balancer")
		return
	}
	x.steps.run(ctx, "load-balancers", "elasticloadbalancing:DeregisterTargets", func() error {
		return deregister(ctx, x.apis, x.in.Evidence, id, x.member)
	})
}

// cutNetwork moves every ENI, not only the primary one, through the
// conversion group into the isolation group.
func (x *isolation) cutNetwork(ctx context.Context) {
	x.steps.run(ctx, "security-groups", "ec2:ModifyNetworkInterfaceAttribute", func() error {
		api, ev, vpc, caseID := x.apis.ec2, x.in.Evidence, x.state.VPCID, x.in.CaseID
		conv, err := ensureGroup(ctx, api, ev, vpc, caseID, conversionSpec())
		if err != nil {
			return err
		}
		iso, err := ensureGroup(ctx, api, ev, vpc, caseID, isolationSpec())
		if err != nil {
			return err
		}
		x.out["conversion_group_id"], x.out["isolation_group_id"] = conv, iso
		primaryTarget := iso
		if x.hasSSH {
			if primaryTarget, err = ensureGroup(ctx, api, ev, vpc, caseID, sshSpec(x.ssh)); err != nil {
				return err
			}
			x.out["ssh_group_id"] = primaryTarget
		}
		// One ENI that could not be isolated must not leave the others
		// in their original groups.
		var errs []error
		for _, n := range x.inst.NetworkInterfaces {
			target, eni := iso, aws.ToString(n.NetworkInterfaceId)
			if n.Attachment != nil && aws.ToInt32(n.Attachment.DeviceIndex) == 0 {
				target = primaryTarget
			}
			errs = append(errs, swapGroups(ctx, api, ev, eni, n.Groups, x.state.Groups[eni], conv, target))
		}
		return errors.Join(errs...)
	})
}

// pullCredentials removes (or replaces) the instance profile and revokes
// the sessions the host may already have handed out.
func (x *isolation) pullCredentials(ctx context.Context, replacement string, revoke, force bool, now time.Time) {
	id, profile := x.state.InstanceID, x.state.InstanceProfileARN
	if profile == "" && replacement == "" {
		x.steps.skip(ctx, "instance-profile", "no instance profile")
	} else {
		x.steps.run(ctx, "instance-profile", "ec2:DisassociateIamInstanceProfile", func() error {
			return swapProfile(ctx, x.apis.ec2, x.in.Evidence, id, replacement)
		})
	}
	switch {
	case !revoke:
		x.steps.skip(ctx, "revoke-sessions", "revoke_sessions is false")
	case profile == "":
		x.steps.skip(ctx, "revoke-sessions", "no instance profile, so no role")
	default:
		x.steps.run(ctx, "revoke-sessions", "iam:PutRolePolicy", func() error {
			caller := ""
			if !force {
				out, err := x.apis.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
				if err != nil {
					return fmt.Errorf("finding who the run acts as (sts:GetCallerIdentity): %w (nothing was revoked; force: true skips this check)", awsapi.Classify(err))
				}
				caller = aws.ToString(out.Arn)
			}
			roles, err := revokeOlderSessions(ctx, x.apis.iam, x.in.Evidence, profile, now, caller)
			x.out["revoked_roles"] = stringsAny(roles)
			return err
		})
	}
}

func (x *isolation) denyNACL(ctx context.Context, want bool) {
	if !want {
		x.steps.skip(ctx, "nacl", "nacl is false")
		return
	}
	x.steps.run(ctx, "nacl", "ec2:CreateNetworkAclEntry", func() error {
		ids, err := denyInNACL(ctx, x.apis.ec2, x.in.Evidence, x.state.VPCID, hostAddrs(x.inst))
		x.out["nacl_ids"] = stringsAny(ids)
		return err
	})
}

// tag marks the instance last, saying whether every part got done.
func (x *isolation) tag(ctx context.Context) {
	status := "isolated"
	if !x.steps.ok() {
		status = "isolation-incomplete"
	}
	x.steps.run(ctx, "tags", "ec2:CreateTags", func() error {
		tags := map[string]string{awsapi.TagCase: x.in.CaseID, awsapi.TagStatus: status}
		if err := createTags(ctx, x.apis.ec2, x.state.InstanceID, tags); err != nil {
			return err
		}
		return awsapi.Change(ctx, x.in.Evidence, "ec2:CreateTags", map[string]any{"resource": x.state.InstanceID, "tags": tags})
	})
}
