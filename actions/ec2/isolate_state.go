package ec2

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// Tags holding the pre-isolation state on the resources themselves. They
// are written before the first change and never overwritten, so a rerun,
// a resume or a second case still knows the state before any isolation,
// and release can work from the instance id alone.
const (
	prevTagAPITermination = "firebreak:prev:api-termination"       // on the instance: "true"/"false"
	prevTagShutdown       = "firebreak:prev:shutdown"              // on the instance: "stop"/"terminate"
	prevTagProfile        = "firebreak:prev:profile"               // on the instance: ARN, or "none"
	prevTagASG            = "firebreak:prev:asg"                   // on the instance: group name, or "none"
	prevTagDOT            = "firebreak:prev:delete-on-termination" // on each volume: "true"/"false"
	prevTagGroups         = "firebreak:prev:groups"                // on each ENI: "sg-a,sg-b" (then :1, :2, ... when long)
)

// preState is the state isolate changes, as it was before; release puts it
// back. It is the pre-change artifact and the previous_state output.
type preState struct {
	InstanceID            string              `json:"instance_id"`
	Region                string              `json:"region"`
	VPCID                 string              `json:"vpc_id"`
	Groups                map[string][]string `json:"groups"` // ENI id -> group ids
	DisableAPITermination bool                `json:"disable_api_termination"`
	ShutdownBehavior      string              `json:"shutdown_behavior"`
	DeleteOnTermination   map[string]bool     `json:"delete_on_termination"` // device name -> flag
	Volumes               map[string]string   `json:"volumes"`               // device name -> volume id
	InstanceProfileARN    string              `json:"instance_profile_arn,omitempty"`
	AutoScalingGroup      string              `json:"auto_scaling_group,omitempty"`
	TargetGroups          []targetRef         `json:"target_groups,omitempty"`
	ClassicELBs           []string            `json:"classic_elbs,omitempty"`
	// FromTags is true when the state was read back from the prev tags of
	// an earlier run rather than from the live resources.
	FromTags bool `json:"from_tags"`
	// taggedENIs are the ENIs whose groups came from prev tags.
	taggedENIs map[string]bool
	// trafficFromTags: the load balancers came from prev tags.
	trafficFromTags bool
}

// targetRef is one registration of the instance in an ELBv2 target group.
// Read back from a tag it has the group's name and no ARN.
type targetRef struct {
	ARN  string `json:"arn,omitempty"`
	Name string `json:"name,omitempty"`
	Port int32  `json:"port,omitempty"`
}

// asMap turns the state into a JSON-shaped map, for step outputs.
func (s *preState) asMap() map[string]any {
	b, _ := json.Marshal(s)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// preStateFromMap reads a previous_state parameter back.
func preStateFromMap(m map[string]any) (*preState, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var s preState
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// describeHost reads the instance and the state isolate will change: the
// live state, replaced by the prev tags where an earlier run wrote them.
func describeHost(ctx context.Context, api isolateEC2, id, region string) (*types.Instance, *preState, error) {
	inst, err := describeInstance(ctx, api, id)
	if err != nil {
		return nil, nil, err
	}
	s := &preState{
		InstanceID: id, Region: region, VPCID: aws.ToString(inst.VpcId),
		Groups: map[string][]string{}, DeleteOnTermination: map[string]bool{}, Volumes: map[string]string{},
	}
	tags := awsapi.EC2TagMap(inst.Tags)
	if err := s.readAttributes(ctx, api, id, tags); err != nil {
		return nil, nil, err
	}
	if err := s.readVolumes(ctx, api, inst); err != nil {
		return nil, nil, err
	}
	if err := s.readENIs(ctx, api, inst); err != nil {
		return nil, nil, err
	}
	if v, ok := tags[prevTagProfile]; ok {
		s.InstanceProfileARN = strings.TrimPrefix(v, "none")
	} else if inst.IamInstanceProfile != nil {
		s.InstanceProfileARN = aws.ToString(inst.IamInstanceProfile.Arn)
	}
	if v, ok := tags[prevTagASG]; ok {
		s.AutoScalingGroup = strings.TrimPrefix(v, "none")
	}
	s.readTrafficTags(tags)
	return inst, s, nil
}

func (s *preState) readAttributes(ctx context.Context, api isolateEC2, id string, tags map[string]string) error {
	if v, ok := tags[prevTagAPITermination]; ok {
		s.FromTags = true
		s.DisableAPITermination = v == "true"
		s.ShutdownBehavior = tags[prevTagShutdown]
		return nil
	}
	protected, shutdown, err := readProtection(ctx, api, id)
	if err != nil {
		return err
	}
	s.DisableAPITermination, s.ShutdownBehavior = protected, shutdown
	if s.ShutdownBehavior == "" {
		s.ShutdownBehavior = "stop" // EC2's default
	}
	return nil
}

func (s *preState) readVolumes(ctx context.Context, api isolateEC2, inst *types.Instance) error {
	var ids []string
	for _, b := range inst.BlockDeviceMappings {
		if b.Ebs == nil {
			continue
		}
		dev, vol := aws.ToString(b.DeviceName), aws.ToString(b.Ebs.VolumeId)
		s.Volumes[dev], s.DeleteOnTermination[dev] = vol, aws.ToBool(b.Ebs.DeleteOnTermination)
		ids = append(ids, vol)
	}
	if len(ids) == 0 {
		return nil
	}
	out, err := api.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: ids})
	if err != nil {
		return fmt.Errorf("describing volumes %s: %w", strings.Join(ids, ", "), awsapi.Classify(err))
	}
	for _, v := range out.Volumes {
		if prev, ok := awsapi.EC2TagMap(v.Tags)[prevTagDOT]; ok {
			for dev, id := range s.Volumes {
				if id == aws.ToString(v.VolumeId) {
					s.DeleteOnTermination[dev] = prev == "true"
				}
			}
		}
	}
	return nil
}

func (s *preState) readENIs(ctx context.Context, api isolateEC2, inst *types.Instance) error {
	var ids []string
	for _, n := range inst.NetworkInterfaces {
		ids = append(ids, aws.ToString(n.NetworkInterfaceId))
	}
	if len(ids) == 0 {
		return nil // no id would describe every ENI of the region
	}
	out, err := api.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: ids})
	if err != nil {
		return fmt.Errorf("describing network interfaces of %q: %w", aws.ToString(inst.InstanceId), awsapi.Classify(err))
	}
	for _, n := range out.NetworkInterfaces {
		id := aws.ToString(n.NetworkInterfaceId)
		if prev, ok := groupsFromTags(awsapi.EC2TagMap(n.TagSet)); ok {
			s.Groups[id] = prev
			if s.taggedENIs == nil {
				s.taggedENIs = map[string]bool{}
			}
			s.taggedENIs[id] = true
			continue
		}
		for _, g := range n.Groups {
			s.Groups[id] = append(s.Groups[id], aws.ToString(g.GroupId))
		}
		sort.Strings(s.Groups[id])
	}
	return nil
}

// writePrevTags records s on the resources, skipping any resource that
// already carries its prev tags (they hold the older, truer state).
func (s *preState) writePrevTags(ctx context.Context, api isolateEC2) error {
	if !s.FromTags {
		tags := map[string]string{
			prevTagAPITermination: strconv.FormatBool(s.DisableAPITermination),
			prevTagShutdown:       s.ShutdownBehavior,
			prevTagProfile:        orNone(s.InstanceProfileARN),
			prevTagASG:            orNone(s.AutoScalingGroup),
		}
		s.addTrafficTags(tags)
		if err := createTags(ctx, api, s.InstanceID, tags); err != nil {
			return err
		}
	}
	for dev, vol := range s.Volumes {
		if err := createTags(ctx, api, vol, map[string]string{prevTagDOT: strconv.FormatBool(s.DeleteOnTermination[dev])}); err != nil {
			return err
		}
	}
	for eni, groups := range s.Groups {
		if err := createTags(ctx, api, eni, groupTags(groups)); err != nil {
			return err
		}
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func createTags(ctx context.Context, api isolateEC2, id string, tags map[string]string) error {
	_, err := api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: awsapi.EC2Tags(tags)})
	if err != nil {
		return fmt.Errorf("tagging %q: %w", id, awsapi.Classify(err))
	}
	return nil
}
