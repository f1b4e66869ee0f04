package assess

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"
)

func registerGuardDuty(r *Registry) {
	r.Register(Check{ID: "guardduty.enabled", Family: "guardduty", Title: "GuardDuty is enabled", Severity: High, Scope: Regional,
		Description: "GuardDuty is where most incidents are first noticed, and its findings start firebreak playbooks (run --finding).",
		Run:         checkGuardDuty})
}

func checkGuardDuty(ctx context.Context, env *Env, region string) []Result {
	api := env.GuardDuty(region)
	res := "guardduty"
	var ids []string
	p := guardduty.NewListDetectorsPaginator(api, &guardduty.ListDetectorsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return []Result{errored(res, "guardduty:ListDetectors", err)}
		}
		ids = append(ids, page.DetectorIds...)
	}
	if len(ids) == 0 {
		return []Result{failed(res, "no GuardDuty detector in this region",
			fmt.Sprintf("aws guardduty create-detector --enable --region %s", region))}
	}
	var out []Result
	for _, id := range ids {
		d, err := api.GetDetector(ctx, &guardduty.GetDetectorInput{DetectorId: aws.String(id)})
		name := "detector/" + id
		switch {
		case err != nil:
			out = append(out, errored(name, "guardduty:GetDetector", err))
		case d.Status == types.DetectorStatusEnabled:
			out = append(out, passed(name, "detector "+id+" is enabled"))
		default:
			out = append(out, failed(name, fmt.Sprintf("detector %s is %s", id, d.Status),
				fmt.Sprintf("aws guardduty update-detector --detector-id %s --enable --region %s", id, region)))
		}
	}
	return out
}
