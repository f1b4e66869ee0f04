package awsfixture

import (
	"context"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// ENIsInGroup returns, sorted, the network interfaces that have groupID
// among their own groups (the group-id filter).
//
// Tests assert an ENI's groups this way rather than from its Groups field
// because moto describes an attached ENI with its own groups plus the
// instance's launch groups, even after ModifyNetworkInterfaceAttribute
// replaced them; its group-id filter looks at the ENI's own groups only,
// which is what AWS does for both.
func (c *Clients) ENIsInGroup(ctx context.Context, groupID string) ([]string, error) {
	out, err := c.EC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{
		Filters: []types.Filter{{Name: aws.String("group-id"), Values: []string{groupID}}},
	})
	if err != nil {
		return nil, err
	}
	ids := []string{}
	for _, n := range out.NetworkInterfaces {
		ids = append(ids, aws.ToString(n.NetworkInterfaceId))
	}
	sort.Strings(ids)
	return ids, nil
}
