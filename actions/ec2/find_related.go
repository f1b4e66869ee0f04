package ec2

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsperm"
)

// relatedAPI is what find-related needs; the SDK clients have it.
type relatedAPI struct {
	ec2 interface {
		DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
		DescribeNetworkInterfaces(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, opts ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error)
	}
	iam interface {
		GetInstanceProfile(ctx context.Context, in *iam.GetInstanceProfileInput, opts ...func(*iam.Options)) (*iam.GetInstanceProfileOutput, error)
	}
	asg interface {
		DescribeAutoScalingInstances(ctx context.Context, in *autoscaling.DescribeAutoScalingInstancesInput, opts ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingInstancesOutput, error)
	}
}

// findRelated lists the instances that share something with the target
// an attacker could use to move on: its role, a security group, its key
// pair, its AMI, its subnet, its Auto Scaling group. It changes nothing.
type findRelated struct {
	api func(region string) relatedAPI
}

var _ engine.Action = (*findRelated)(nil)

func registerFindRelated(r *engine.Registry, c *awsapi.Clients) {
	r.Register(&findRelated{api: func(region string) relatedAPI {
		return relatedAPI{ec2: c.EC2(region), iam: c.IAM(), asg: c.AutoScaling(region)}
	}})
}

// relatedParams declare find-related's parameters.
type relatedParams struct {
	InstanceID string   `param:"instance_id,required" doc:"the compromised instance"`
	Criteria   []string `param:"criteria" default:"role,security_group" doc:"what relates an instance: role (the same IAM role, through any instance profile), instance_profile, security_group, key_pair, ami, subnet, asg"`
	Max        int      `param:"max" default:"100" doc:"related instances listed at most (the closest first: most reasons)"`
	// PreviousState is isolate's output: once isolated, the instance has
	// lost its groups, profile and Auto Scaling group, and is related by
	// what it had.
	PreviousState map[string]any `param:"previous_state" doc:"isolate's previous_state output: compare what the instance had before isolation; without it, isolate's firebreak:prev:* tags are read, else the live instance"`
	Region        string         `param:"region" default:"" doc:"the instance's region; empty: the run's default"`
}

var relatedCriteria = []string{"role", "instance_profile", "security_group", "key_pair", "ami", "subnet", "asg"}

var relatedCalls = []string{"ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces", "iam:GetInstanceProfile", "autoscaling:DescribeAutoScalingInstances"}

func (*findRelated) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name:    "find-related",
		Summary: "Instances related to one by its role, security groups, key pair, AMI, subnet or Auto Scaling group, each with why",
		Params:  engine.ParamsOf[relatedParams](),
		Outputs: []engine.Output{
			{Name: "related", Type: engine.TypeList, Doc: "{instance_id, name, state, private_ip, reasons: [{criterion, value}]}, most reasons first"},
			{Name: "instance_ids", Type: engine.TypeList, Doc: "the related instances' ids, in the same order (for a for_each)", Headline: true},
			{Name: "count", Type: engine.TypeInt, Doc: "related instances found (before max)"},
			{Name: "truncated", Type: engine.TypeBool, Doc: "more than max were found"},
		},
		Calls:       relatedCalls,
		Permissions: awsperm.ForCalls(relatedCalls),
	}
}

// Reason is one thing an instance shares with the target.
type Reason struct {
	Criterion string `json:"criterion"`
	Value     string `json:"value"`
}

// RelatedInstance is one entry of find-related's output and artifact.
type RelatedInstance struct {
	InstanceID string   `json:"instance_id"`
	Name       string   `json:"name"`
	State      string   `json:"state"`
	PrivateIP  string   `json:"private_ip"`
	Reasons    []Reason `json:"reasons"`
}

func (a *findRelated) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := engine.Decode[relatedParams](in.Params)
	if err != nil {
		return nil, fmt.Errorf("find-related: %w", err)
	}
	for _, c := range p.Criteria {
		if !slices.Contains(relatedCriteria, c) {
			return nil, fmt.Errorf("find-related: criterion %q is unknown: use %s", c, strings.Join(relatedCriteria, ", "))
		}
	}
	if len(p.Criteria) == 0 {
		return nil, fmt.Errorf("find-related: criteria is empty: give at least one of %s", strings.Join(relatedCriteria, ", "))
	}
	x := &relatedRun{api: a.api(p.Region), criteria: p.Criteria, roles: map[string][]string{}}
	related, err := x.find(ctx, p.InstanceID, p.PreviousState)
	if err != nil {
		return nil, fmt.Errorf("find-related %s: %w", p.InstanceID, err)
	}
	count := len(related)
	related = related[:min(len(related), max(p.Max, 0))]
	if _, err := awsapi.PutJSON(ctx, in.Evidence, engine.ArtifactMeta{Name: engine.ArtifactName("related-instances", ".json", in),
		Kind: "related-instances", Source: map[string]string{"instance_id": p.InstanceID}},
		map[string]any{"instance_id": p.InstanceID, "criteria": p.Criteria, "count": count, "related": related}); err != nil {
		return nil, err
	}
	list, ids := make([]any, len(related)), make([]any, len(related))
	for i, r := range related {
		reasons := make([]any, len(r.Reasons))
		for j, why := range r.Reasons {
			reasons[j] = map[string]any{"criterion": why.Criterion, "value": why.Value}
		}
		list[i] = map[string]any{"instance_id": r.InstanceID, "name": r.Name, "state": r.State, "private_ip": r.PrivateIP, "reasons": reasons}
		ids[i] = r.InstanceID
	}
	return engine.Outputs{"related": list, "instance_ids": ids, "count": count, "truncated": count > len(related)}, nil
}

// relatedRun is one find-related run.
type relatedRun struct {
	api      relatedAPI
	criteria []string
	roles    map[string][]string // instance profile ARN -> its roles' names
	asgOf    map[string]string   // instance id -> Auto Scaling group
}

func (x *relatedRun) wants(c string) bool { return slices.Contains(x.criteria, c) }

// find compares every live instance of the region with the target as it
// was before isolation.
func (x *relatedRun) find(ctx context.Context, id string, prev map[string]any) ([]RelatedInstance, error) {
	all, err := x.instances(ctx)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(all, func(in types.Instance) bool { return aws.ToString(in.InstanceId) == id })
	if i < 0 {
		return nil, fmt.Errorf("no live instance %q in the region", id)
	}
	if x.wants("asg") {
		if err := x.loadASGs(ctx); err != nil {
			return nil, err
		}
	}
	target, err := x.original(ctx, all[i], prev)
	if err != nil {
		return nil, err
	}
	var out []RelatedInstance
	for _, other := range all {
		if aws.ToString(other.InstanceId) == id {
			continue
		}
		reasons, err := x.reasons(ctx, target, x.facts(other))
		if err != nil {
			return nil, err
		}
		if len(reasons) > 0 {
			out = append(out, RelatedInstance{InstanceID: aws.ToString(other.InstanceId), Name: nameTag(other.Tags),
				State: string(other.State.Name), PrivateIP: aws.ToString(other.PrivateIpAddress), Reasons: reasons})
		}
	}
	slices.SortStableFunc(out, func(a, b RelatedInstance) int {
		if len(a.Reasons) != len(b.Reasons) {
			return len(b.Reasons) - len(a.Reasons)
		}
		return strings.Compare(a.InstanceID, b.InstanceID)
	})
	return out, nil
}

// hostFacts are what relates two instances.
type hostFacts struct {
	profile, key, ami, subnet, asg string
	groups                         []string
}

func (x *relatedRun) facts(i types.Instance) hostFacts {
	return hostFacts{profile: profileARN(i), key: aws.ToString(i.KeyName), ami: aws.ToString(i.ImageId),
		subnet: aws.ToString(i.SubnetId), asg: x.asgOf[aws.ToString(i.InstanceId)], groups: groupIDs(i)}
}

// original is the target as it was before isolate changed it: from
// isolate's previous_state, else from the firebreak:prev:* tags isolate
// left on the instance and its interfaces, else as it is.
func (x *relatedRun) original(ctx context.Context, inst types.Instance, prev map[string]any) (hostFacts, error) {
	f := x.facts(inst)
	if len(prev) > 0 {
		st, err := preStateFromMap(prev)
		if err != nil {
			return f, fmt.Errorf("previous_state: %w", err)
		}
		f.profile, f.asg, f.groups = st.InstanceProfileARN, st.AutoScalingGroup, nil
		for _, eni := range engine.SortedKeys(st.Groups) {
			f.groups = appendNew(f.groups, st.Groups[eni]...)
		}
		return f, nil
	}
	tags := map[string]string{}
	for _, t := range inst.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	if v, ok := tags[prevTagProfile]; ok {
		f.profile = strings.TrimPrefix(v, "none")
	}
	if v, ok := tags[prevTagASG]; ok {
		f.asg = strings.TrimPrefix(v, "none")
	}
	var enis []string
	for _, n := range inst.NetworkInterfaces {
		enis = append(enis, aws.ToString(n.NetworkInterfaceId))
	}
	if len(enis) == 0 {
		return f, nil
	}
	out, err := x.api.ec2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: enis})
	if err != nil {
		return f, fmt.Errorf("reading the instance's interfaces: %w", awsapi.Classify(err))
	}
	var groups []string
	for _, n := range out.NetworkInterfaces {
		et := map[string]string{}
		for _, t := range n.TagSet {
			et[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if g, ok := groupsFromTags(et); ok {
			groups = appendNew(groups, g...)
		}
	}
	if len(groups) > 0 {
		f.groups = groups
	}
	return f, nil
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		if it != "" && !slices.Contains(list, it) {
			list = append(list, it)
		}
	}
	return list
}

func (x *relatedRun) instances(ctx context.Context) ([]types.Instance, error) {
	var all []types.Instance
	pg := ec2.NewDescribeInstancesPaginator(x.api.ec2, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}}}})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing instances: %w", awsapi.Classify(err))
		}
		for _, r := range page.Reservations {
			all = append(all, r.Instances...)
		}
	}
	return all, nil
}

// reasons is what other shares with target, criterion by criterion.
func (x *relatedRun) reasons(ctx context.Context, target, other hostFacts) ([]Reason, error) {
	var out []Reason
	same := func(c, a, b string) {
		if x.wants(c) && a != "" && a == b {
			out = append(out, Reason{c, a})
		}
	}
	if x.wants("role") && target.profile != "" && other.profile != "" {
		mine, err := x.profileRoles(ctx, target.profile)
		if err != nil {
			return nil, err
		}
		theirs, err := x.profileRoles(ctx, other.profile)
		if err != nil {
			return nil, err
		}
		for _, r := range theirs {
			if slices.Contains(mine, r) {
				out = append(out, Reason{"role", r})
			}
		}
	}
	same("instance_profile", target.profile, other.profile)
	if x.wants("security_group") {
		for _, g := range other.groups {
			if slices.Contains(target.groups, g) {
				out = append(out, Reason{"security_group", g})
			}
		}
	}
	same("key_pair", target.key, other.key)
	same("ami", target.ami, other.ami)
	same("subnet", target.subnet, other.subnet)
	same("asg", target.asg, other.asg)
	return out, nil
}

// profileRoles asks IAM once per profile which roles it holds.
func (x *relatedRun) profileRoles(ctx context.Context, arn string) ([]string, error) {
	if roles, ok := x.roles[arn]; ok {
		return roles, nil
	}
	name := arn[strings.LastIndex(arn, "/")+1:]
	out, err := x.api.iam.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("reading instance profile %q: %w", name, awsapi.Classify(err))
	}
	var roles []string
	for _, r := range out.InstanceProfile.Roles {
		roles = append(roles, aws.ToString(r.RoleName))
	}
	x.roles[arn] = roles
	return roles, nil
}

func (x *relatedRun) loadASGs(ctx context.Context) error {
	x.asgOf = map[string]string{}
	pg := autoscaling.NewDescribeAutoScalingInstancesPaginator(x.api.asg, &autoscaling.DescribeAutoScalingInstancesInput{})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing Auto Scaling instances: %w", awsapi.Classify(err))
		}
		for _, i := range page.AutoScalingInstances {
			x.asgOf[aws.ToString(i.InstanceId)] = aws.ToString(i.AutoScalingGroupName)
		}
	}
	return nil
}

func profileARN(i types.Instance) string {
	if i.IamInstanceProfile == nil {
		return ""
	}
	return aws.ToString(i.IamInstanceProfile.Arn)
}

// groupIDs are the instance's groups and those of each of its ENIs.
func groupIDs(i types.Instance) []string {
	var out []string
	for _, g := range i.SecurityGroups {
		out = appendNew(out, aws.ToString(g.GroupId))
	}
	for _, n := range i.NetworkInterfaces {
		for _, g := range n.Groups {
			out = appendNew(out, aws.ToString(g.GroupId))
		}
	}
	return out
}

func nameTag(tags []types.Tag) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == "Name" {
			return aws.ToString(t.Value)
		}
	}
	return ""
}
