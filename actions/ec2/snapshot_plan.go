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

var _ engine.Planner = (*snapshot)(nil)

// Plan lists the calls a run would make. With Check it reads the instance's
// volumes and asks EC2 whether CreateSnapshots would be allowed (DryRun),
// changing nothing.
func (a *snapshot) Plan(ctx context.Context, in *engine.PlanInput) (*engine.PlanDetail, error) {
	id := planValue(in.Params["instance_id"])
	d := &engine.PlanDetail{Calls: []string{
		"ec2:DescribeSnapshots tag:firebreak:case=<case> tag:firebreak:source-instance=" + id + " (reuse the case's snapshots when there are)",
		"ec2:CreateSnapshots " + id + " every attached volume, crash-consistent, tagged with the case",
		"ec2:CreateTags firebreak:source-volume on each snapshot",
	}}
	if key := in.Params.String("copy_to_kms_key"); key != "" {
		d.Calls = append(d.Calls, "ec2:CopySnapshot each snapshot, encrypted with KMS key "+key)
	}
	if acct := in.Params.String("share_with_account"); acct != "" {
		d.Calls = append(d.Calls, "ec2:ModifySnapshotAttribute createVolumePermission add "+acct)
	}
	if _, unknown := in.Params["instance_id"].(engine.Unknown); !in.Check || unknown || a.api == nil {
		return d, nil
	}
	api := a.api(in.Params.String("region"))
	vols, err := attachedVolumes(ctx, api, id)
	if err != nil {
		d.Problems = append(d.Problems, err.Error())
		return d, nil
	}
	d.Notes = append(d.Notes, fmt.Sprintf("%d volumes attached: %s", len(vols), strings.Join(vols, ", ")))
	_, err = api.CreateSnapshots(ctx, &ec2.CreateSnapshotsInput{DryRun: aws.Bool(true),
		InstanceSpecification: &types.InstanceSpecification{InstanceId: aws.String(id)}})
	if p := dryRunProblem("ec2:CreateSnapshots", err); p != "" {
		d.Problems = append(d.Problems, p)
	}
	return d, nil
}

// planValue shows a parameter as plan prints it.
func planValue(v any) string {
	switch x := v.(type) {
	case engine.Unknown:
		return x.String()
	case nil:
		return "<none>"
	default:
		return engine.Format(x)
	}
}

// dryRunProblem reads the answer to a DryRun call: DryRunOperation means it
// would have been allowed, UnauthorizedOperation that it would be denied.
// No error at all means the endpoint ignored DryRun and EXECUTED the call:
// never "allowed", always a problem to show.
func dryRunProblem(call string, err error) string {
	switch code := awsapi.Code(err); {
	case err == nil:
		return errDryRunIgnored(call)
	case code == "DryRunOperation":
		return ""
	case code == "UnauthorizedOperation" || code == "AccessDenied" || code == "AccessDeniedException":
		return call + " is not allowed for this identity: grant it (see firebreak iam-policy)"
	default:
		return fmt.Sprintf("%s dry run: %v", call, err)
	}
}

func errDryRunIgnored(call string) string {
	return call + ": the endpoint ignored DryRun: the call was executed"
}
