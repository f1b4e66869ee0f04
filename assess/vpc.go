package assess

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func registerVPC(r *Registry) {
	r.Register(Check{ID: "vpc.flow-logs", Family: "vpc", Title: "Every VPC has a flow log", Severity: Medium, Scope: Regional,
		Description: "Flow logs record the connections in and out of a VPC: without them a network investigation has nothing to read.",
		Run:         checkFlowLogs})
}

func checkFlowLogs(ctx context.Context, env *Env, region string) []Result {
	api := env.EC2(region)
	var vpcs []types.Vpc
	p := ec2.NewDescribeVpcsPaginator(api, &ec2.DescribeVpcsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return []Result{errored("vpcs", "ec2:DescribeVpcs", err)}
		}
		vpcs = append(vpcs, page.Vpcs...)
	}
	if len(vpcs) == 0 {
		return []Result{passed("vpcs", "no VPC in this region")}
	}
	logs, err := flowLogsByVPC(ctx, api)
	if err != nil {
		return []Result{errored("vpcs", "ec2:DescribeFlowLogs", err)}
	}
	out := make([]Result, 0, len(vpcs))
	for _, v := range vpcs {
		id := aws.ToString(v.VpcId)
		res := fmt.Sprintf("arn:aws:ec2:%s:%s:vpc/%s", region, aws.ToString(v.OwnerId), id)
		if ids := logs[id]; len(ids) > 0 {
			out = append(out, passed(res, "flow log "+strings.Join(ids, ", ")))
			continue
		}
		out = append(out, failed(res, "no flow log on this VPC",
			fmt.Sprintf("aws ec2 create-flow-logs --region %s --resource-type VPC --resource-ids %s --traffic-type ALL "+
				"--log-destination-type s3 --log-destination arn:aws:s3:::LOG_BUCKET", region, id)))
	}
	return out
}

// flowLogsByVPC maps each VPC id to the ids of the flow logs attached to
// it, from one paginated listing for the whole region.
func flowLogsByVPC(ctx context.Context, api EC2API) (map[string][]string, error) {
	logs := map[string][]string{}
	p := ec2.NewDescribeFlowLogsPaginator(api, &ec2.DescribeFlowLogsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, f := range page.FlowLogs {
			if id := aws.ToString(f.ResourceId); strings.HasPrefix(id, "vpc-") {
				logs[id] = append(logs[id], aws.ToString(f.FlowLogId))
			}
		}
	}
	return logs, nil
}
