package awsfixture

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

const assumeEC2 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

const readBuckets = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}`

func (w *World) buildIAM(ctx context.Context, c *Clients) error {
	w.RoleName = w.name("fb-fixture-web")
	role, err := c.IAM.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String(w.RoleName), AssumeRolePolicyDocument: aws.String(assumeEC2),
	})
	if err != nil {
		return err
	}
	w.RoleARN = *role.Role.Arn
	pol, err := c.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{
		PolicyName: aws.String(w.name("fb-fixture-read")), PolicyDocument: aws.String(readBuckets),
	})
	if err != nil {
		return err
	}
	w.ManagedPolicyARN = *pol.Policy.Arn
	if _, err := c.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{
		RoleName: aws.String(w.RoleName), PolicyArn: pol.Policy.Arn,
	}); err != nil {
		return err
	}
	if _, err := c.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName: aws.String(w.RoleName), PolicyName: aws.String("inline-read"), PolicyDocument: aws.String(readBuckets),
	}); err != nil {
		return err
	}
	w.InstanceProfileName = w.name("fb-fixture-web")
	ip, err := c.IAM.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(w.InstanceProfileName)})
	if err != nil {
		return err
	}
	w.InstanceProfileARN = *ip.InstanceProfile.Arn
	_, err = c.IAM.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{
		InstanceProfileName: aws.String(w.InstanceProfileName), RoleName: aws.String(w.RoleName),
	})
	return err
}

// linuxAMI picks a Linux image the endpoint knows (moto ships Ubuntu ones)
// and returns its id and root device name.
func linuxAMI(ctx context.Context, c *Clients) (string, string, error) {
	out, err := c.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{
		Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"ubuntu/images/*"}}},
	})
	if err != nil {
		return "", "", err
	}
	var pick *types.Image
	for i, im := range out.Images {
		// the same image every time: the smallest id
		if im.Platform == "" && (pick == nil || *im.ImageId < *pick.ImageId) {
			pick = &out.Images[i]
		}
	}
	if pick == nil {
		return "", "", fmt.Errorf("no ubuntu image found")
	}
	root := aws.ToString(pick.RootDeviceName)
	if root == "" {
		root = "/dev/sda1"
	}
	return *pick.ImageId, root, nil
}

func (w *World) buildInstance(ctx context.Context, c *Clients) error {
	ami, root, err := linuxAMI(ctx, c)
	if err != nil {
		return err
	}
	w.AMIID = ami
	w.Tags = map[string]string{"Name": w.name("web"), "env": "prod", "owner": "platform-team"}
	tags := []types.Tag{}
	for _, k := range []string{"Name", "env", "owner"} {
		tags = append(tags, types.Tag{Key: aws.String(k), Value: aws.String(w.Tags[k])})
	}
	run, err := c.EC2.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String(ami), InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		SubnetId:           aws.String(w.SubnetIDs[0]),
		SecurityGroupIds:   []string{w.WebGroupID, w.AdminGroupID},
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Arn: aws.String(w.InstanceProfileARN)},
		// Not the default, so that isolate's change to "stop" and
		// release's undo are both visible.
		InstanceInitiatedShutdownBehavior: types.ShutdownBehaviorTerminate,
		UserData:                          aws.String(base64.StdEncoding.EncodeToString([]byte("#!/bin/bash\necho fixture > /tmp/boot\n"))),
		// Both mappings are given: an endpoint that sees any mapping (moto)
		// makes only the ones listed.
		BlockDeviceMappings: []types.BlockDeviceMapping{{
			DeviceName: aws.String(root),
			Ebs:        &types.EbsBlockDevice{VolumeSize: aws.Int32(8), DeleteOnTermination: aws.Bool(true)},
		}, {
			DeviceName: aws.String("/dev/sdf"),
			Ebs:        &types.EbsBlockDevice{VolumeSize: aws.Int32(8), DeleteOnTermination: aws.Bool(true)},
		}},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: tags}},
	})
	if err != nil {
		return err
	}
	w.InstanceID = *run.Instances[0].InstanceId
	if err := w.attachSecondaryENI(ctx, c); err != nil {
		return err
	}
	return w.readInstance(ctx, c)
}

func (w *World) attachSecondaryENI(ctx context.Context, c *Clients) error {
	eni, err := c.EC2.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{
		SubnetId: aws.String(w.SubnetIDs[0]), Groups: []string{w.DBGroupID},
		Description: aws.String("fixture secondary interface"),
	})
	if err != nil {
		return err
	}
	w.SecondaryENI = *eni.NetworkInterface.NetworkInterfaceId
	_, err = c.EC2.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{
		NetworkInterfaceId: aws.String(w.SecondaryENI), InstanceId: aws.String(w.InstanceID), DeviceIndex: aws.Int32(1),
	})
	return err
}

// readInstance fills in what the endpoint chose: addresses, ENI and volume
// ids, and the groups on each ENI.
func (w *World) readInstance(ctx context.Context, c *Clients) error {
	out, err := c.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{w.InstanceID}})
	if err != nil {
		return err
	}
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		return fmt.Errorf("instance %q not described back", w.InstanceID)
	}
	in := out.Reservations[0].Instances[0]
	w.PrivateIP = aws.ToString(in.PrivateIpAddress)
	w.PublicIP = aws.ToString(in.PublicIpAddress)
	sort.Slice(in.NetworkInterfaces, func(i, j int) bool {
		return aws.ToInt32(in.NetworkInterfaces[i].Attachment.DeviceIndex) < aws.ToInt32(in.NetworkInterfaces[j].Attachment.DeviceIndex)
	})
	for _, n := range in.NetworkInterfaces {
		w.ENIIDs = append(w.ENIIDs, *n.NetworkInterfaceId)
	}
	if len(w.ENIIDs) > 0 {
		w.PrimaryENI = w.ENIIDs[0]
	}
	// The groups as Build set them, not as described: moto describes an
	// attached ENI with its own groups plus the instance's launch groups.
	primary := []string{w.WebGroupID, w.AdminGroupID}
	sort.Strings(primary)
	w.GroupsByENI[w.PrimaryENI] = primary
	w.GroupsByENI[w.SecondaryENI] = []string{w.DBGroupID}
	for _, b := range in.BlockDeviceMappings {
		id := *b.Ebs.VolumeId
		w.VolumeIDs = append(w.VolumeIDs, id)
		if aws.ToString(b.DeviceName) == aws.ToString(in.RootDeviceName) {
			w.RootVolumeID = id
		} else {
			w.DataVolumeID = id
		}
	}
	if len(w.ENIIDs) != 2 || len(w.VolumeIDs) != 2 {
		return fmt.Errorf("instance %q has %d ENIs and %d volumes, want 2 and 2", w.InstanceID, len(w.ENIIDs), len(w.VolumeIDs))
	}
	return nil
}
