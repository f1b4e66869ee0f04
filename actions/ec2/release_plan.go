package ec2

import (
	"context"
	"fmt"

	"github.com/firebreak-ir/firebreak/engine"
)

var _ engine.Planner = (*release)(nil)

// Plan says what release would put back. With Check it reads the state
// isolate recorded in the prev tags (changing nothing), so the person
// approving the release sees exactly what will happen.
func (a *release) Plan(ctx context.Context, in *engine.PlanInput) (*engine.PlanDetail, error) {
	id, known := in.Params["instance_id"].(string)
	d := &engine.PlanDetail{}
	if !in.Check || !known {
		d.Calls = []string{fmt.Sprintf("restore what isolate recorded on %v: groups of every ENI, attributes, profile, Auto Scaling group, load balancers", in.Params["instance_id"])}
		return d, nil
	}
	region, _ := in.Params["region"].(string)
	region = a.region(region)
	prev, _ := in.Params["previous_state"].(map[string]any)
	_, st, err := a.state(ctx, a.apis(region).ec2, prev, id, region)
	if err != nil {
		d.Problems = append(d.Problems, err.Error())
		return d, nil
	}
	for _, eni := range engine.SortedKeys(st.Groups) {
		d.Calls = append(d.Calls, fmt.Sprintf("ec2:ModifyNetworkInterfaceAttribute %s -> %v", eni, st.Groups[eni]))
	}
	d.Calls = append(d.Calls,
		fmt.Sprintf("ec2:ModifyInstanceAttribute %s DisableApiTermination=%v", id, st.DisableAPITermination),
		fmt.Sprintf("ec2:ModifyInstanceAttribute %s InstanceInitiatedShutdownBehavior=%s", id, st.ShutdownBehavior),
		fmt.Sprintf("ec2:ModifyInstanceAttribute %s DeleteOnTermination=%v", id, st.DeleteOnTermination))
	if st.InstanceProfileARN != "" {
		d.Calls = append(d.Calls, "ec2:AssociateIamInstanceProfile "+id+" "+st.InstanceProfileARN)
	}
	if st.AutoScalingGroup != "" {
		d.Calls = append(d.Calls, "autoscaling:AttachInstances "+id+" to "+st.AutoScalingGroup)
	}
	for _, tg := range st.TargetGroups {
		d.Calls = append(d.Calls, fmt.Sprintf("elasticloadbalancing:RegisterTargets %s with %s%s", id, tg.ARN, tg.Name))
	}
	for _, lb := range st.ClassicELBs {
		d.Calls = append(d.Calls, "elasticloadbalancing:RegisterInstancesWithLoadBalancer "+id+" with "+lb)
	}
	return d, nil
}
