package ec2

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// collection carries one run of collect-metadata between its parts.
type collection struct {
	apis  collectAPIs
	in    *engine.StepInput
	id    string
	inst  *types.Instance
	steps *substeps
	out   engine.Outputs
	gaps  []string
	saved []string // artifact names, in order
}

// part runs one collection; a call the endpoint does not implement becomes
// a gap: a custody event, a line in the summary artifact, no failure.
func (c *collection) part(ctx context.Context, name, call string, fn func() error) {
	c.steps.run(ctx, name, call, fn)
	if strings.HasPrefix(c.steps.status[name], "skipped: not implemented") {
		c.gaps = append(c.gaps, call)
	}
}

func (c *collection) putJSON(ctx context.Context, name, kind string, v any) error {
	_, err := awsapi.PutJSON(ctx, c.in.Evidence, c.meta(name, kind, "application/json"), v)
	if err == nil {
		c.saved = append(c.saved, name)
	}
	return err
}

func (c *collection) putBytes(ctx context.Context, name, kind, contentType string, b []byte) error {
	if _, err := c.in.Evidence.Put(ctx, c.meta(name, kind, contentType), bytes.NewReader(b)); err != nil {
		return fmt.Errorf("storing artifact %q: %w", name, err)
	}
	c.saved = append(c.saved, name)
	return nil
}

func (c *collection) meta(name, kind, contentType string) engine.ArtifactMeta {
	return engine.ArtifactMeta{Name: name, Kind: kind, ContentType: contentType,
		Source: map[string]string{"instance_id": c.id, "region": c.out["region"].(string)}}
}

func (c *collection) collectAll(ctx context.Context) {
	c.part(ctx, "instance", "ec2:DescribeInstances", func() error { return c.putJSON(ctx, "instance.json", "instance-description", c.inst) })
	c.part(ctx, "tags", "ec2:DescribeInstances", func() error {
		return c.putJSON(ctx, "tags.json", "instance-tags", awsapi.EC2TagMap(c.inst.Tags))
	})
	c.part(ctx, "volumes", "ec2:DescribeVolumes", func() error { return c.volumes(ctx) })
	c.part(ctx, "network-interfaces", "ec2:DescribeNetworkInterfaces", func() error { return c.interfaces(ctx) })
	c.part(ctx, "security-groups", "ec2:DescribeSecurityGroups", func() error { return c.groups(ctx) })
	c.part(ctx, "attributes", "ec2:DescribeInstanceAttribute", func() error { return c.attributes(ctx) })
	c.part(ctx, "image", "ec2:DescribeImages", func() error { return c.image(ctx) })
	if arn, _ := c.out["instance_profile_arn"].(string); arn != "" {
		c.part(ctx, "instance-profile", "iam:GetInstanceProfile", func() error { return c.profile(ctx, arn) })
	} else {
		c.steps.skip(ctx, "instance-profile", "no instance profile")
	}
	if c.out["asg_name"] == "" {
		c.part(ctx, "auto-scaling", "autoscaling:DescribeAutoScalingInstances", func() error { return c.asg(ctx) })
	}
	c.part(ctx, "console-output", "ec2:GetConsoleOutput", func() error { return c.consoleOutput(ctx) })
	c.part(ctx, "console-screenshot", "ec2:GetConsoleScreenshot", func() error { return c.screenshot(ctx) })
}

func (c *collection) volumes(ctx context.Context) error {
	ids := c.out["volume_ids"].([]any)
	if len(ids) == 0 {
		return c.putJSON(ctx, "volumes.json", "volumes", []any{})
	}
	out, err := c.apis.ec2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: anyStrings(ids)})
	if err != nil {
		return awsapi.Classify(err)
	}
	return c.putJSON(ctx, "volumes.json", "volumes", out.Volumes)
}

// interfaces and groups ask by id only when there are ids: no id at all
// would describe every ENI or group of the region into this host's case.
func (c *collection) interfaces(ctx context.Context) error {
	ids := anyStrings(c.out["eni_ids"].([]any))
	if len(ids) == 0 {
		return c.putJSON(ctx, "network-interfaces.json", "network-interfaces", []any{})
	}
	out, err := c.apis.ec2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: ids})
	if err != nil {
		return awsapi.Classify(err)
	}
	return c.putJSON(ctx, "network-interfaces.json", "network-interfaces", out.NetworkInterfaces)
}

func (c *collection) groups(ctx context.Context) error {
	ids := anyStrings(c.out["security_group_ids"].([]any))
	if len(ids) == 0 {
		return c.putJSON(ctx, "security-groups.json", "security-groups", []any{})
	}
	out, err := c.apis.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: ids})
	if err != nil {
		return awsapi.Classify(err)
	}
	return c.putJSON(ctx, "security-groups.json", "security-groups", out.SecurityGroups)
}

// attributes saves the attributes DescribeInstances does not return; the
// user data is saved decoded too, since attackers persist through it.
func (c *collection) attributes(ctx context.Context) error {
	attrs := map[string]any{}
	for _, name := range []types.InstanceAttributeName{types.InstanceAttributeNameUserData,
		types.InstanceAttributeNameDisableApiTermination, types.InstanceAttributeNameInstanceInitiatedShutdownBehavior} {
		out, err := c.apis.ec2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(c.id), Attribute: name})
		if err != nil {
			return fmt.Errorf("attribute %s: %w", name, awsapi.Classify(err))
		}
		switch {
		case out.UserData != nil:
			attrs["user_data_base64"] = aws.ToString(out.UserData.Value)
			if b, err := base64.StdEncoding.DecodeString(aws.ToString(out.UserData.Value)); err == nil {
				attrs["user_data"] = string(b)
			}
		case out.DisableApiTermination != nil:
			attrs["disable_api_termination"] = aws.ToBool(out.DisableApiTermination.Value)
		case out.InstanceInitiatedShutdownBehavior != nil:
			attrs["instance_initiated_shutdown_behavior"] = aws.ToString(out.InstanceInitiatedShutdownBehavior.Value)
		}
	}
	return c.putJSON(ctx, "attributes.json", "instance-attributes", attrs)
}

func (c *collection) image(ctx context.Context) error {
	out, err := c.apis.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{c.out["ami_id"].(string)}})
	if err != nil {
		return awsapi.Classify(err)
	}
	// An empty answer is evidence too: the AMI was deregistered or is private to another account.
	return c.putJSON(ctx, "image.json", "image", out.Images)
}

// profile saves the instance profile, its roles, and each role's inline
// and attached policies: what stolen credentials could do.
func (c *collection) profile(ctx context.Context, arn string) error {
	name := arn[strings.LastIndex(arn, "/")+1:]
	p, err := c.apis.iam.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
	if err != nil {
		return awsapi.Classify(err)
	}
	roles := []any{}
	for _, r := range p.InstanceProfile.Roles {
		role, err := c.rolePolicies(ctx, aws.ToString(r.RoleName))
		if err != nil {
			return err
		}
		role["role"] = r
		roles = append(roles, role)
	}
	return c.putJSON(ctx, "instance-profile.json", "iam-instance-profile", map[string]any{"instance_profile": p.InstanceProfile, "roles": roles})
}

func (c *collection) rolePolicies(ctx context.Context, role string) (map[string]any, error) {
	inline := map[string]any{}
	var names []string
	for p := iam.NewListRolePoliciesPaginator(c.apis.iam, &iam.ListRolePoliciesInput{RoleName: aws.String(role)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing inline policies of %q: %w", role, awsapi.Classify(err))
		}
		names = append(names, page.PolicyNames...)
	}
	for _, n := range names {
		doc, err := c.apis.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(n)})
		if err != nil {
			return nil, fmt.Errorf("reading inline policy %q of %q: %w", n, role, awsapi.Classify(err))
		}
		text, uerr := url.QueryUnescape(aws.ToString(doc.PolicyDocument)) // IAM returns documents URL-encoded
		if uerr != nil {
			text = aws.ToString(doc.PolicyDocument)
		}
		inline[n] = text
	}
	attached := []iamtypes.AttachedPolicy{}
	for p := iam.NewListAttachedRolePoliciesPaginator(c.apis.iam, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(role)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing attached policies of %q: %w", role, awsapi.Classify(err))
		}
		attached = append(attached, page.AttachedPolicies...)
	}
	return map[string]any{"inline_policies": inline, "attached_policies": attached}, nil
}

func (c *collection) asg(ctx context.Context) error {
	out, err := c.apis.asg.DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{c.id}})
	if err != nil {
		return awsapi.Classify(err)
	}
	for _, a := range out.AutoScalingInstances {
		c.out["asg_name"] = aws.ToString(a.AutoScalingGroupName)
	}
	return nil
}

func (c *collection) consoleOutput(ctx context.Context) error {
	// Latest: the most recent output (Nitro) rather than the buffer from
	// the last boot; instance types and endpoints that refuse the
	// parameter get the call without it.
	out, err := c.apis.ec2.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(c.id), Latest: aws.Bool(true)})
	switch awsapi.Code(err) {
	case "UnsupportedOperation", "InvalidParameter", "InvalidParameterValue", "InvalidParameterCombination":
		out, err = c.apis.ec2.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(c.id)})
	}
	if err != nil {
		return awsapi.Classify(err)
	}
	text, err := base64.StdEncoding.DecodeString(aws.ToString(out.Output))
	if err != nil {
		return fmt.Errorf("console output is not base64: %w", err)
	}
	c.out["console_output"] = string(text)
	return c.putBytes(ctx, "console-output.txt", "console-output", "text/plain; charset=utf-8", text)
}

func (c *collection) screenshot(ctx context.Context) error {
	out, err := c.apis.ec2.GetConsoleScreenshot(ctx, &ec2.GetConsoleScreenshotInput{InstanceId: aws.String(c.id), WakeUp: aws.Bool(false)})
	if err != nil {
		return awsapi.Classify(optional(err))
	}
	img, err := base64.StdEncoding.DecodeString(aws.ToString(out.ImageData))
	if err != nil {
		return fmt.Errorf("console screenshot is not base64: %w", err)
	}
	return c.putBytes(ctx, "console-screenshot.jpg", "console-screenshot", "image/jpeg", img)
}

// summary saves what was collected and what could not be, with why.
func (c *collection) summary(ctx context.Context) error {
	return c.putJSON(ctx, "collection.json", "collection-summary", map[string]any{
		"instance_id": c.id, "artifacts": c.saved, "gaps": c.gaps, "substeps": c.steps.asMap(),
	})
}

func anyStrings(l []any) []string {
	out := make([]string, 0, len(l))
	for _, v := range l {
		out = append(out, fmt.Sprint(v))
	}
	return out
}
