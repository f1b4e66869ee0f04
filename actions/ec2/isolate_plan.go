package ec2

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

var _ engine.Planner = (*isolate)(nil)

// Plan says what isolate would change. Without Check it reads nothing;
// with Check it reads the instance (never changes it) to name its ENIs,
// volumes, group and load balancers, and asks EC2 with DryRun whether the
// caller may make the two key changes.
func (a *isolate) Plan(ctx context.Context, in *engine.PlanInput) (*engine.PlanDetail, error) {
	id, known := in.Params["instance_id"].(string)
	if !known {
		id = fmt.Sprint(in.Params["instance_id"])
	}
	nacl, _ := in.Params["nacl"].(bool)
	d := &engine.PlanDetail{}
	if !in.Check || !known {
		d.Calls = genericIsolateCalls(id, nacl)
		return d, nil
	}
	region, _ := in.Params["region"].(string)
	region = a.region(region)
	apis := a.apis(region)
	inst, st, err := describeHost(ctx, apis.ec2, id, region)
	if err != nil {
		d.Problems = append(d.Problems, err.Error())
		d.Calls = genericIsolateCalls(id, nacl)
		return d, nil
	}
	m, err := findMembership(ctx, apis, id, st.VPCID)
	if err != nil {
		d.Problems = append(d.Problems, err.Error())
	}
	d.Notes = append(d.Notes, fmt.Sprintf("%s in %s, VPC %s: %d network interfaces, %d volumes", id, region, st.VPCID, len(st.Groups), len(st.Volumes)))
	if st.FromTags {
		d.Notes = append(d.Notes, "already isolated once: the pre-isolation state is read from the firebreak:prev:* tags")
	}
	d.Calls = concreteIsolateCalls(inst, st, m, nacl)
	d.Problems = append(d.Problems, dryRunProblems(ctx, apis.ec2, inst)...)
	return d, nil
}

func genericIsolateCalls(id string, nacl bool) []string {
	calls := []string{
		"ec2:ModifyInstanceAttribute " + id + " DisableApiTermination=true",
		"ec2:ModifyInstanceAttribute " + id + " InstanceInitiatedShutdownBehavior=stop",
		"ec2:ModifyInstanceAttribute " + id + " DeleteOnTermination=false (every volume)",
		"autoscaling:DetachInstances " + id + " (if in a group)",
		"elasticloadbalancing:DeregisterTargets " + id + " (every target group holding it)",
		"ec2:ModifyNetworkInterfaceAttribute (every ENI of " + id + ") -> " + conversionGroupName + " -> " + isolationGroupName,
		"ec2:DisassociateIamInstanceProfile " + id,
		"iam:PutRolePolicy " + revokePolicyName,
	}
	if nacl {
		calls = append(calls, "ec2:CreateNetworkAclEntry deny the addresses of "+id+" in and out on the ACLs of the other subnets of its VPC")
	}
	return append(calls, "ec2:CreateTags "+id+" firebreak:status=isolated")
}

func concreteIsolateCalls(inst *types.Instance, st *preState, m membership, nacl bool) []string {
	id := st.InstanceID
	calls := []string{
		"ec2:ModifyInstanceAttribute " + id + " DisableApiTermination=true",
		"ec2:ModifyInstanceAttribute " + id + " InstanceInitiatedShutdownBehavior=stop",
		"ec2:ModifyInstanceAttribute " + id + " DeleteOnTermination=false " + strings.Join(engine.SortedKeys(st.Volumes), ","),
	}
	if m.asg != "" {
		calls = append(calls, "autoscaling:SetInstanceProtection "+id+" in "+m.asg, "autoscaling:DetachInstances "+id+" from "+m.asg+" ShouldDecrementDesiredCapacity=true")
	}
	for _, tg := range m.targetGroups {
		calls = append(calls, "elasticloadbalancing:DeregisterTargets "+id+" from "+tg.ARN)
	}
	for _, lb := range m.classicELBs {
		calls = append(calls, "elasticloadbalancing:DeregisterInstancesFromLoadBalancer "+id+" from "+lb)
	}
	for _, eni := range engine.SortedKeys(st.Groups) {
		calls = append(calls, fmt.Sprintf("ec2:ModifyNetworkInterfaceAttribute %s %v -> %s -> %s", eni, st.Groups[eni], conversionGroupName, isolationGroupName))
	}
	if st.InstanceProfileARN != "" {
		calls = append(calls, "ec2:DisassociateIamInstanceProfile "+id+" ("+st.InstanceProfileARN+")", "iam:PutRolePolicy "+revokePolicyName+" on the roles of "+st.InstanceProfileARN)
	}
	if nacl {
		for _, a := range hostAddrs(inst) {
			calls = append(calls, "ec2:CreateNetworkAclEntry deny "+a.ip+"/32 in and out on the ACLs of the other subnets of "+st.VPCID)
		}
	}
	return append(calls, "ec2:CreateTags "+id+" firebreak:case, firebreak:status=isolated")
}

// dryRunProblems asks EC2 whether the caller may change the instance and
// its interfaces. DryRunOperation means yes; UnauthorizedOperation no; no
// error means the endpoint ignored DryRun and executed the call.
func dryRunProblems(ctx context.Context, api isolateEC2, inst *types.Instance) []string {
	var problems []string
	check := func(call string, err error) {
		switch {
		case err == nil:
			problems = append(problems, errDryRunIgnored(call))
		case awsapi.Code(err) == "UnauthorizedOperation":
			problems = append(problems, call+": not permitted for the caller")
		}
	}
	_, err := api.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: inst.InstanceId, DryRun: aws.Bool(true),
		DisableApiTermination: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
	check("ec2:ModifyInstanceAttribute", err)
	if len(inst.NetworkInterfaces) > 0 {
		n := inst.NetworkInterfaces[0]
		var groups []string
		for _, g := range n.Groups {
			groups = append(groups, aws.ToString(g.GroupId))
		}
		_, err = api.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: n.NetworkInterfaceId, DryRun: aws.Bool(true), Groups: groups})
		check("ec2:ModifyNetworkInterfaceAttribute", err)
	}
	return problems
}
