package assess

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func checkReachability(ctx context.Context, env *Env, region string) []Result {
	api := env.EC2(region)
	var insts []instance
	p := ec2.NewDescribeInstancesPaginator(api, &ec2.DescribeInstancesInput{
		Filters: []types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"running"}}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return []Result{errored("instances", "ec2:DescribeInstances", err)}
		}
		for _, r := range page.Reservations {
			for _, i := range r.Instances {
				insts = append(insts, instance{owner: aws.ToString(r.OwnerId), Instance: i})
			}
		}
	}
	if len(insts) == 0 {
		return []Result{passed("instances", "no running instance in this region")}
	}
	open, err := sshGroups(ctx, api, insts)
	if err != nil {
		return []Result{errored("instances", "ec2:DescribeSecurityGroups", err)}
	}
	out := make([]Result, 0, len(insts))
	for _, i := range insts {
		out = append(out, judgeReach(region, i, open))
	}
	return out
}

type instance struct {
	owner string
	types.Instance
}

func judgeReach(region string, i instance, open map[string]string) Result {
	id := aws.ToString(i.InstanceId)
	res := fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", region, i.owner, id)
	var via []string
	for _, id := range groupIDs(i.Instance) {
		if from, ok := open[id]; ok {
			via = append(via, id+" allows tcp/22 from "+from)
		}
	}
	if len(via) > 0 {
		return passed(res, strings.Join(via, "; "))
	}
	return failed(res, "no security group of the instance allows tcp/22; "+needsSSH,
		fmt.Sprintf("aws ec2 authorize-security-group-ingress --region %s --group-id SG_ID --protocol tcp --port 22 --cidr EXAMINER_CIDR "+
			"(or pass allow_ssh_from to isolate, which opens only tcp/22 from the examiner)", region))
}

// sshGroups maps each security group of insts that allows tcp/22 in to a
// description of from where, with one DescribeSecurityGroups per 200 ids.
func sshGroups(ctx context.Context, api EC2API, insts []instance) (map[string]string, error) {
	seen := map[string]bool{}
	var ids []string
	for _, i := range insts {
		for _, id := range groupIDs(i.Instance) {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	open := map[string]string{}
	for start := 0; start < len(ids); start += 200 {
		out, err := api.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: ids[start:min(start+200, len(ids))]})
		if err != nil {
			return nil, err
		}
		for _, g := range out.SecurityGroups {
			if from := sshSources(g.IpPermissions); from != "" {
				open[aws.ToString(g.GroupId)] = from
			}
		}
	}
	return open, nil
}

// sshSources says from where rules let tcp/22 in ("" when nowhere).
func sshSources(perms []types.IpPermission) string {
	var from []string
	for _, p := range perms {
		if !coversSSH(p) {
			continue
		}
		for _, r := range p.IpRanges {
			from = append(from, aws.ToString(r.CidrIp))
		}
		for _, r := range p.Ipv6Ranges {
			from = append(from, aws.ToString(r.CidrIpv6))
		}
		for _, g := range p.UserIdGroupPairs {
			from = append(from, aws.ToString(g.GroupId))
		}
		for _, l := range p.PrefixListIds {
			from = append(from, aws.ToString(l.PrefixListId))
		}
	}
	return strings.Join(from, ", ")
}

func coversSSH(p types.IpPermission) bool {
	switch aws.ToString(p.IpProtocol) {
	case "-1", "all":
		return true
	case "tcp", "6":
		return p.FromPort != nil && p.ToPort != nil && *p.FromPort <= 22 && 22 <= *p.ToPort
	}
	return false
}

// groupIDs are the security groups of the instance and of every network
// interface attached to it: SSH may come in on a secondary interface.
func groupIDs(i types.Instance) []string {
	seen := map[string]bool{}
	var ids []string
	add := func(gs []types.GroupIdentifier) {
		for _, g := range gs {
			if id := aws.ToString(g.GroupId); id != "" && !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	add(i.SecurityGroups)
	for _, n := range i.NetworkInterfaces {
		add(n.Groups)
	}
	return ids
}
