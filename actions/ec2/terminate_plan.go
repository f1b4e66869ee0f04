package ec2

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

var _ engine.Planner = (*terminate)(nil)

// Plan lists the calls a run would make. With Check it reads the instance
// (state, case tag) and asks EC2 whether the stop or terminate would be
// allowed (DryRun), changing nothing.
func (a *terminate) Plan(ctx context.Context, in *engine.PlanInput) (*engine.PlanDetail, error) {
	// plan fills in mode's default; a mode known only at run time is
	// shown as the stop it would be unless it says terminate.
	id, mode := planValue(in.Params["instance_id"]), in.Params.String("mode")
	d := &engine.PlanDetail{Calls: []string{"ec2:DescribeInstances " + id + " (refuse unless tagged firebreak:case=<case> or force)"}}
	if mode == "terminate" {
		d.Calls = append(d.Calls, "ec2:DescribeSnapshots (refuse unless tagged firebreak:status=isolated, or force, and the case has a completed snapshot of every EBS volume)",
			"ec2:ModifyInstanceAttribute "+id+" DeleteOnTermination=false on every EBS volume (when true)",
			"ec2:ModifyInstanceAttribute "+id+" DisableApiTermination=false (when set)", "ec2:TerminateInstances "+id)
	} else {
		d.Calls = append(d.Calls, "ec2:StopInstances "+id)
	}
	if _, unknown := in.Params["instance_id"].(engine.Unknown); !in.Check || unknown || a.api == nil {
		return d, nil
	}
	api := a.api(in.Params.String("region"))
	inst, err := terminateDescribe(ctx, api, id)
	if err != nil {
		d.Problems = append(d.Problems, err.Error())
		return d, nil
	}
	d.Notes = append(d.Notes, fmt.Sprintf("%s is %s, tagged firebreak:case=%q", id, instState(inst), snapTag(inst.Tags, awsapi.TagCase)))
	if mode == "terminate" {
		_, err = api.TerminateInstances(ctx, &ec2.TerminateInstancesInput{DryRun: aws.Bool(true), InstanceIds: []string{id}})
		err = planDryRun(d, "ec2:TerminateInstances", err)
	} else {
		_, err = api.StopInstances(ctx, &ec2.StopInstancesInput{DryRun: aws.Bool(true), InstanceIds: []string{id}})
		err = planDryRun(d, "ec2:StopInstances", err)
	}
	return d, err
}

func planDryRun(d *engine.PlanDetail, call string, err error) error {
	if p := dryRunProblem(call, err); p != "" {
		d.Problems = append(d.Problems, p)
	}
	return nil
}
