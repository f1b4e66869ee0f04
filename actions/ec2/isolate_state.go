package ec2

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/sync/errgroup"

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
	s, err := stateOf(ctx, api, inst, region)
	if err != nil {
		return nil, nil, err
	}
	return inst, s, nil
}

// stateOf reads the state isolate will change of the instance inst
// describes: the live state, replaced by the prev tags where an earlier
// run wrote them.
func stateOf(ctx context.Context, api isolateEC2, inst *types.Instance, region string) (*preState, error) {
	id := aws.ToString(inst.InstanceId)
	s := &preState{
		InstanceID: id, Region: region, VPCID: aws.ToString(inst.VpcId),
		Groups: map[string][]string{}, DeleteOnTermination: map[string]bool{}, Volumes: map[string]string{},
	}
	tags := awsapi.EC2TagMap(inst.Tags)
	// The three reads fill different fields of s and depend only on inst:
	// made at once, they cost one round trip, not three.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.readAttributes(gctx, api, id, tags) })
	g.Go(func() error { return s.readVolumes(gctx, api, inst) })
	g.Go(func() error { return s.readENIs(gctx, api, inst) })
	if err := g.Wait(); err != nil {
		return nil, err
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
	return s, nil
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
//
// One CreateTags call takes many tags and many resources, but gives every
// resource the same tags: the resources are grouped by the tags they get
// (the volumes with the same flag, the ENIs with the same groups), one
// call per group, the calls made at once. For one instance that is at most
// four calls in one round trip, however many volumes and ENIs it has.
func (s *preState) writePrevTags(ctx context.Context, api isolateEC2) error {
	want := map[string]map[string]string{} // resource -> its prev tags
	if !s.FromTags {
		tags := map[string]string{
			prevTagAPITermination: strconv.FormatBool(s.DisableAPITermination),
			prevTagShutdown:       s.ShutdownBehavior,
			prevTagProfile:        orNone(s.InstanceProfileARN),
			prevTagASG:            orNone(s.AutoScalingGroup),
		}
		s.addTrafficTags(tags)
		want[s.InstanceID] = tags
	}
	for dev, vol := range s.Volumes {
		want[vol] = map[string]string{prevTagDOT: strconv.FormatBool(s.DeleteOnTermination[dev])}
	}
	for eni, groups := range s.Groups {
		if !s.taggedENIs[eni] {
			want[eni] = groupTags(groups)
		}
	}
	calls := tagBatches(want)
	g, gctx := errgroup.WithContext(ctx)
	for _, c := range calls {
		g.Go(func() error { return createTagsOn(gctx, api, c.resources, c.tags) })
	}
	return g.Wait()
}

// tagBatch is one CreateTags call: the same tags on every resource.
type tagBatch struct {
	resources []string
	tags      map[string]string
}

// CreateTags limits: resources a call (EC2 documents "up to 1000"), and
// tags a resource (50 user tags).
const (
	maxTagResources = 1000
	maxTagsPerCall  = 50
)

// tagBatches groups resources by the exact tags they get, in a stable
// order, splitting a group at the API's limits.
func tagBatches(want map[string]map[string]string) []tagBatch {
	byKey := map[string]*tagBatch{}
	var keys []string
	for _, res := range slices.Sorted(maps.Keys(want)) {
		tags := want[res]
		kb, _ := json.Marshal(tags) // sorted keys: equal maps, equal keys
		k := string(kb)
		b, ok := byKey[k]
		if !ok {
			b = &tagBatch{tags: tags}
			byKey[k] = b
			keys = append(keys, k)
		}
		b.resources = append(b.resources, res)
	}
	var out []tagBatch
	for _, k := range keys {
		b := byKey[k]
		tagChunks := chunkTags(b.tags)
		for start := 0; start < len(b.resources); start += maxTagResources {
			res := b.resources[start:min(start+maxTagResources, len(b.resources))]
			for _, t := range tagChunks {
				out = append(out, tagBatch{resources: res, tags: t})
			}
		}
	}
	return out
}

// chunkTags splits tags into sets of at most maxTagsPerCall.
func chunkTags(tags map[string]string) []map[string]string {
	var out []map[string]string
	cur := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		if len(cur) == maxTagsPerCall {
			out = append(out, cur)
			cur = map[string]string{}
		}
		cur[k] = tags[k]
	}
	return append(out, cur)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func createTags(ctx context.Context, api isolateEC2, id string, tags map[string]string) error {
	return createTagsOn(ctx, api, []string{id}, tags)
}

func createTagsOn(ctx context.Context, api isolateEC2, ids []string, tags map[string]string) error {
	_, err := api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: awsapi.EC2Tags(tags)})
	if err != nil {
		return fmt.Errorf("tagging %s: %w", quoteAll(ids), awsapi.Classify(err))
	}
	return nil
}

func quoteAll(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = strconv.Quote(id)
	}
	return strings.Join(q, ", ")
}
