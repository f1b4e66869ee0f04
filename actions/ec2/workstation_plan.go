package ec2

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

var _ engine.Planner = (*workstation)(nil)

// Plan lists what create-workstation would make. With Check it reads the
// case's snapshots and what an earlier run made, changing nothing.
func (a *workstation) Plan(ctx context.Context, in *engine.PlanInput) (*engine.PlanDetail, error) {
	caseID := planValue(in.Params["case_id"])
	if in.Params.String("case_id") == "" && !isUnknownParam(in.Params["case_id"]) {
		caseID = "<this run's case>"
	}
	d := &engine.PlanDetail{Calls: []string{"ec2:DescribeSnapshots tag:firebreak:case=" + caseID}}
	if sn := in.Params.String("subnet_id"); sn != "" {
		d.Calls = append(d.Calls, "ec2:DescribeSubnets "+sn)
	} else {
		d.Calls = append(d.Calls, "ec2:CreateVpc "+workstationVPCCIDR+" and ec2:CreateSubnet "+workstationSubnetCIDR+" (no internet gateway), unless made before")
		if in.Params.String("evidence_bucket") != "" {
			d.Calls = append(d.Calls, "ec2:CreateVpcEndpoint S3 gateway, reading "+in.Params.String("evidence_bucket")+" only")
		}
	}
	d.Calls = append(d.Calls, "ec2:CreateSecurityGroup firebreak-workstation-"+caseID+": in tcp/22 from "+planValue(in.Params["examiner_cidr"])+" only")
	if b := in.Params.String("evidence_bucket"); b != "" {
		d.Calls = append(d.Calls, "iam:CreateRole + iam:CreateInstanceProfile firebreak-workstation-"+caseID+" reading s3://"+b)
	}
	d.Calls = append(d.Calls, "ec2:RunInstances "+planValue(in.Params["ami_id"])+" tagged firebreak:role=workstation",
		"ec2:CreateVolume + ec2:AttachVolume per case snapshot, /dev/sdf onwards")
	id := in.Params.String("case_id")
	if !in.Check || id == "" || a.ec2 == nil {
		return d, nil
	}
	api := a.ec2(a.region(in.Params.String("region")))
	x := &wsRun{api: api, caseID: id}
	snaps, err := x.caseSnapshots(ctx)
	if err != nil {
		d.Problems = append(d.Problems, err.Error())
		return d, nil
	}
	d.Notes = append(d.Notes, fmt.Sprintf("%d snapshots of case %s to mount", len(snaps), id))
	found, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: x.tagFilters()})
	if err != nil {
		d.Problems = append(d.Problems, fmt.Sprintf("looking for an earlier workstation: %v", awsapi.Classify(err)))
	} else if len(found.Reservations) > 0 {
		d.Notes = append(d.Notes, "workstation "+aws.ToString(found.Reservations[0].Instances[0].InstanceId)+" exists: a run reuses it")
	}
	return d, nil
}

func isUnknownParam(v any) bool { _, ok := v.(engine.Unknown); return ok }
