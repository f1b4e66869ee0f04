package faulttest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/internal/awsfixture"
)

// endState is what host-compromise leaves in a world, with the world's own
// ids replaced by names (INSTANCE, ENI0, VOL1, WEB, CASE, ...) so that the
// state of two worlds compares equal when the same things were done to them.
type endState struct {
	Groups       []string            // names of firebreak's groups in the VPC, one entry per group
	Snapshots    map[string]int      // case snapshots per source volume
	Isolated     []string            // ENIs in the isolation group
	InstanceTags map[string]string   // firebreak:* tags
	ENITags      map[string][]string // ENI -> its firebreak:* tags as k=v
	VolumeTags   map[string][]string
	State        string
	InASG        bool
}

func (s endState) String() string {
	return fmt.Sprintf("groups %v\nsnapshots %v\nisolated %v\ninstance tags %v\neni tags %v\nvolume tags %v\nstate %s in-asg %v",
		s.Groups, s.Snapshots, s.Isolated, s.InstanceTags, s.ENITags, s.VolumeTags, s.State, s.InASG)
}

func (s endState) equal(o endState) bool { return s.String() == o.String() }

// names replaces a world's ids with stable names.
func names(w *awsfixture.World, caseID string) *strings.Replacer {
	pairs := []string{w.InstanceID, "INSTANCE", w.WebGroupID, "WEB", w.AdminGroupID, "ADMIN", w.DBGroupID, "DB",
		w.InstanceProfileARN, "PROFILE", w.ASGName, "ASG", w.PrimaryENI, "ENI0", w.SecondaryENI, "ENI1",
		w.RootVolumeID, "VOL0", w.DataVolumeID, "VOL1", w.Suffix, "SUFFIX"}
	if caseID != "" {
		pairs = append(pairs, caseID, "CASE")
	}
	return strings.NewReplacer(pairs...)
}

// norm names the ids in v and sorts a comma-separated list, whose order
// followed the ids.
func norm(rn *strings.Replacer, v string) string {
	parts := strings.Split(rn.Replace(v), ",")
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// readState reads the end state of world w for case caseID through c,
// which must reach moto directly.
func readState(t testing.TB, ctx context.Context, c *awsfixture.Clients, w *awsfixture.World, caseID string) endState {
	t.Helper()
	rn := names(w, caseID)
	s := endState{Snapshots: map[string]int{}, InstanceTags: map[string]string{}, ENITags: map[string][]string{}, VolumeTags: map[string][]string{}}
	sgs, err := c.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
		Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{w.VPCID}}}})
	must(t, "DescribeSecurityGroups", err)
	for _, g := range sgs.SecurityGroups {
		if name := aws.ToString(g.GroupName); strings.HasPrefix(name, "firebreak-") {
			s.Groups = append(s.Groups, name)
			if name == "firebreak-isolation" {
				s.Isolated, err = c.ENIsInGroup(ctx, aws.ToString(g.GroupId))
				must(t, "ENIsInGroup", err)
			}
		}
	}
	slices.Sort(s.Groups)
	s.Isolated = strings.Split(norm(rn, strings.Join(s.Isolated, ",")), ",")
	snaps, err := c.EC2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		Filters: []types.Filter{{Name: aws.String("tag:firebreak:case"), Values: []string{caseID}}}})
	must(t, "DescribeSnapshots", err)
	for _, sn := range snaps.Snapshots {
		s.Snapshots[rn.Replace(aws.ToString(sn.VolumeId))]++
	}
	inst, err := c.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{w.InstanceID}})
	must(t, "DescribeInstances", err)
	in := inst.Reservations[0].Instances[0]
	s.State = string(in.State.Name)
	for _, tg := range in.Tags {
		if k := aws.ToString(tg.Key); strings.HasPrefix(k, "firebreak:") {
			s.InstanceTags[k] = norm(rn, aws.ToString(tg.Value))
		}
	}
	s.ENITags = resourceTags(t, ctx, c, rn, w.ENIIDs)
	s.VolumeTags = resourceTags(t, ctx, c, rn, w.VolumeIDs)
	asg, err := c.AutoScaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{w.ASGName}})
	must(t, "DescribeAutoScalingGroups", err)
	for _, g := range asg.AutoScalingGroups {
		for _, i := range g.Instances {
			s.InASG = s.InASG || aws.ToString(i.InstanceId) == w.InstanceID
		}
	}
	return s
}

// resourceTags reads the firebreak:* tags of ids, every value of a key
// kept, so a tag written twice with two values would show.
func resourceTags(t testing.TB, ctx context.Context, c *awsfixture.Clients, rn *strings.Replacer, ids []string) map[string][]string {
	t.Helper()
	out, err := c.EC2.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{{Name: aws.String("resource-id"), Values: ids}}})
	must(t, "DescribeTags", err)
	got := map[string][]string{}
	for _, tg := range out.Tags {
		if k := aws.ToString(tg.Key); strings.HasPrefix(k, "firebreak:") {
			id := rn.Replace(aws.ToString(tg.ResourceId))
			got[id] = append(got[id], k+"="+norm(rn, aws.ToString(tg.Value)))
		}
	}
	for _, k := range slices.Collect(maps.Keys(got)) {
		slices.Sort(got[k])
	}
	return got
}

// wantContained checks what every host-compromise run must leave, whatever
// else happened: one isolation group holding every ENI, one snapshot per
// volume, the case and status tags, out of its Auto Scaling group.
func wantContained(t testing.TB, s endState) {
	t.Helper()
	if n := slices.Index(s.Groups, "firebreak-isolation"); n < 0 || slices.Contains(s.Groups[n+1:], "firebreak-isolation") {
		t.Errorf("isolation groups: got %v, want exactly one firebreak-isolation", s.Groups)
	}
	if strings.Join(s.Isolated, ",") != "ENI0,ENI1" {
		t.Errorf("ENIs in the isolation group: got %v, want ENI0,ENI1", s.Isolated)
	}
	if s.Snapshots["VOL0"] != 1 || s.Snapshots["VOL1"] != 1 || len(s.Snapshots) != 2 {
		t.Errorf("case snapshots per volume: got %v, want VOL0:1 VOL1:1", s.Snapshots)
	}
	if s.InstanceTags["firebreak:case"] != "CASE" || s.InstanceTags["firebreak:status"] != "isolated" {
		t.Errorf("instance tags: got %v, want firebreak:case=CASE firebreak:status=isolated", s.InstanceTags)
	}
	if s.InASG {
		t.Errorf("instance still in its Auto Scaling group")
	}
}

func must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
