package awsfixture

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func (w *World) buildNetwork(ctx context.Context, c *Clients) error {
	azs, err := c.EC2.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{})
	if err != nil {
		return err
	}
	if len(azs.AvailabilityZones) < 2 {
		return fmt.Errorf("region %q has %d availability zones, want 2", w.Region, len(azs.AvailabilityZones))
	}
	vpc, err := c.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{
		CidrBlock:         aws.String("10.42.0.0/16"),
		TagSpecifications: tagSpec(types.ResourceTypeVpc, w.name("fb-fixture")),
	})
	if err != nil {
		return err
	}
	w.VPCID = *vpc.Vpc.VpcId
	w.AZ = *azs.AvailabilityZones[0].ZoneName
	for i, cidr := range []string{"10.42.1.0/24", "10.42.2.0/24"} {
		sn, err := c.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{
			VpcId:             vpc.Vpc.VpcId,
			CidrBlock:         aws.String(cidr),
			AvailabilityZone:  azs.AvailabilityZones[i].ZoneName,
			TagSpecifications: tagSpec(types.ResourceTypeSubnet, w.name(fmt.Sprintf("fb-fixture-%d", i))),
		})
		if err != nil {
			return err
		}
		w.SubnetIDs = append(w.SubnetIDs, *sn.Subnet.SubnetId)
	}
	// A public address on the primary ENI lets find-instance search by it.
	if _, err = c.EC2.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{
		SubnetId:            aws.String(w.SubnetIDs[0]),
		MapPublicIpOnLaunch: &types.AttributeBooleanValue{Value: aws.Bool(true)},
	}); err != nil {
		return err
	}
	return w.buildACLs(ctx, c)
}

// buildACLs gives the second subnet its own network ACL (allow all, rule
// 100, as AWS makes a default one), so the two subnets' ACLs differ; the
// first keeps the VPC's default ACL.
func (w *World) buildACLs(ctx context.Context, c *Clients) error {
	acls, err := c.EC2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{w.VPCID}}, {Name: aws.String("default"), Values: []string{"true"}},
	}})
	if err != nil || len(acls.NetworkAcls) != 1 {
		return fmt.Errorf("finding the default network ACL of %q: %v (%d found)", w.VPCID, err, len(acls.NetworkAcls))
	}
	def := acls.NetworkAcls[0]
	acl, err := c.EC2.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{VpcId: aws.String(w.VPCID), TagSpecifications: tagSpec(types.ResourceTypeNetworkAcl, w.name("fb-fixture-1"))})
	if err != nil {
		return err
	}
	for _, egress := range []bool{false, true} {
		if _, err := c.EC2.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{
			NetworkAclId: acl.NetworkAcl.NetworkAclId, RuleNumber: aws.Int32(100), Egress: aws.Bool(egress),
			Protocol: aws.String("-1"), RuleAction: types.RuleActionAllow, CidrBlock: aws.String("0.0.0.0/0"),
		}); err != nil {
			return err
		}
	}
	for _, as := range def.Associations {
		if aws.ToString(as.SubnetId) != w.SubnetIDs[1] {
			continue
		}
		if _, err := c.EC2.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{
			AssociationId: as.NetworkAclAssociationId, NetworkAclId: acl.NetworkAcl.NetworkAclId,
		}); err != nil {
			return err
		}
	}
	w.NetworkACLIDs = []string{aws.ToString(def.NetworkAclId), aws.ToString(acl.NetworkAcl.NetworkAclId)}
	return nil
}

func (w *World) buildGroups(ctx context.Context, c *Clients) error {
	var err error
	if w.WebGroupID, err = w.group(ctx, c, "web", []types.IpPermission{
		tcpFrom(443, "0.0.0.0/0"), tcpFrom(22, "10.0.0.0/8"),
	}); err != nil {
		return err
	}
	if w.AdminGroupID, err = w.group(ctx, c, "admin", []types.IpPermission{
		tcpFrom(8443, "192.0.2.0/24"),
	}); err != nil {
		return err
	}
	w.DBGroupID, err = w.group(ctx, c, "db", []types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(5432), ToPort: aws.Int32(5432),
		UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(w.WebGroupID)}},
	}})
	return err
}

// group creates a security group with ingress rules; AWS (and moto) give
// it the default allow-all egress rule.
func (w *World) group(ctx context.Context, c *Clients, base string, ingress []types.IpPermission) (string, error) {
	g, err := c.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName:   aws.String(w.name("fb-fixture-" + base)),
		Description: aws.String("firebreak fixture " + base),
		VpcId:       aws.String(w.VPCID),
	})
	if err != nil {
		return "", err
	}
	_, err = c.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: g.GroupId, IpPermissions: ingress,
	})
	return *g.GroupId, err
}

func tcpFrom(port int32, cidr string) types.IpPermission {
	return types.IpPermission{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port),
		IpRanges: []types.IpRange{{CidrIp: aws.String(cidr)}},
	}
}

func tagSpec(rt types.ResourceType, name string) []types.TagSpecification {
	return []types.TagSpecification{{
		ResourceType: rt,
		Tags:         []types.Tag{{Key: aws.String("Name"), Value: aws.String(name)}},
	}}
}
