package faulttest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/internal/awsfixture"
	"github.com/firebreak-ir/firebreak/internal/faultproxy"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// fleetRules are a slow, throttling AWS: 100 ms a call, 10% of calls
// throttled at random, and EC2 limited to rate calls a second.
func fleetRules(rate float64) []faultproxy.Rule {
	return []faultproxy.Rule{
		{Latency: 100 * time.Millisecond, Throttle: 0.10},
		{Service: "ec2", RatePerSecond: rate, Burst: int(rate)},
	}
}

// buildFleet launches n instances (root and one data volume each) in the
// world's subnet, straight on moto.
func buildFleet(t testing.TB, e *env, w *awsfixture.World, n int) []string {
	t.Helper()
	out, err := e.check.EC2.RunInstances(testenv.Context(t), &ec2.RunInstancesInput{
		ImageId: aws.String(w.AMIID), MinCount: aws.Int32(int32(n)), MaxCount: aws.Int32(int32(n)),
		InstanceType: types.InstanceTypeT3Micro, SubnetId: aws.String(w.SubnetIDs[0]), SecurityGroupIds: []string{w.WebGroupID},
		BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/sdf"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(1)}}},
	})
	must(t, "RunInstances", err)
	ids := make([]string, 0, n)
	for _, in := range out.Instances {
		ids = append(ids, aws.ToString(in.InstanceId))
	}
	return ids
}

// TestFleetContainment runs host-compromise --targets over a fleet behind
// a slow, throttling AWS: every instance ends isolated with one snapshot
// of each volume, and the throttled share does not grow as the run goes
// on. 6 instances by default (CI time: the SDK's adaptive retry mode makes
// a throttled fleet slow, see internal/bench), 100 with FIREBREAK_FLEET=1.
func TestFleetContainment(t *testing.T) {
	if testing.Short() {
		t.Skip("fleet: minutes; run without -short")
	}
	n, parallel, rate := 6, 6, 20.0
	if os.Getenv("FIREBREAK_FLEET") == "1" {
		n, parallel, rate = 100, 25, 50
	}
	e := newEnv(t, 21)
	w := e.world(t)
	ids := buildFleet(t, e, w, n)
	c := newCLI(t, e.proxy.URL)
	targets := filepath.Join(c.dir, "targets.txt")
	if err := os.WriteFile(targets, []byte(strings.Join(ids, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.proxy.Reset()
	e.proxy.SetRules(fleetRules(rate)...)
	start := time.Now()
	code, out := c.run("run", "host-compromise", "--targets", targets, "--parallelism", fmt.Sprint(parallel), "--evidence", c.evidence, "--case", "fleet")
	elapsed := time.Since(start)
	calls := e.proxy.Calls()
	e.proxy.SetRules()
	if code != 0 {
		t.Fatalf("fleet run: exit %d, want 0\n%s", code, tail(out, 40))
	}
	t.Logf("%d instances in %v (%.2f contained/s), %d calls: %s", n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), len(calls), faultShares(calls))
	wantFleetContained(t, e, w, ids)
	windows := throttledOverTime(calls, 5*time.Second)
	for i, wd := range windows {
		t.Logf("t=%3ds calls %4d throttled %5.1f%%", i*5, wd.calls, 100*wd.share())
	}
	first, last := thirds(windows)
	if last > first+0.15 {
		t.Errorf("throttled share grew from %.0f%% in the first third of the run to %.0f%% in the last", 100*first, 100*last)
	}
}

// wantFleetContained checks every instance: its ENIs in the VPC's one
// isolation group, its status tag, one case snapshot per volume.
func wantFleetContained(t *testing.T, e *env, w *awsfixture.World, ids []string) {
	t.Helper()
	ctx := testenv.Context(t)
	sgs, err := e.check.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{w.VPCID}}, {Name: aws.String("group-name"), Values: []string{"firebreak-isolation"}}}})
	must(t, "DescribeSecurityGroups", err)
	if len(sgs.SecurityGroups) != 1 {
		t.Fatalf("isolation groups in the VPC: got %d, want 1", len(sgs.SecurityGroups))
	}
	isolated, err := e.check.ENIsInGroup(ctx, aws.ToString(sgs.SecurityGroups[0].GroupId))
	must(t, "ENIsInGroup", err)
	in := map[string]bool{}
	for _, id := range isolated {
		in[id] = true
	}
	snaps, err := e.check.EC2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		Filters: []types.Filter{{Name: aws.String("tag-key"), Values: []string{"firebreak:case"}}}})
	must(t, "DescribeSnapshots", err)
	perVolume := map[string]int{}
	for _, s := range snaps.Snapshots {
		perVolume[aws.ToString(s.VolumeId)]++
	}
	desc, err := e.check.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
	must(t, "DescribeInstances", err)
	for _, r := range desc.Reservations {
		for _, inst := range r.Instances {
			id := aws.ToString(inst.InstanceId)
			for _, eni := range inst.NetworkInterfaces {
				if !in[aws.ToString(eni.NetworkInterfaceId)] {
					t.Errorf("%s: ENI %s not in the isolation group", id, aws.ToString(eni.NetworkInterfaceId))
				}
			}
			for _, bd := range inst.BlockDeviceMappings {
				if v := aws.ToString(bd.Ebs.VolumeId); perVolume[v] != 1 {
					t.Errorf("%s: volume %s has %d case snapshots, want 1", id, v, perVolume[v])
				}
			}
			if tag(inst.Tags, "firebreak:status") != "isolated" {
				t.Errorf("%s: firebreak:status %q, want isolated", id, tag(inst.Tags, "firebreak:status"))
			}
		}
	}
}

func tag(tags []types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

// window is the calls that arrived in one slice of time.
type window struct{ calls, throttled int }

func (w window) share() float64 {
	if w.calls == 0 {
		return 0
	}
	return float64(w.throttled) / float64(w.calls)
}

func throttledOverTime(calls []faultproxy.Call, width time.Duration) []window {
	if len(calls) == 0 {
		return nil
	}
	t0 := calls[0].Start
	var out []window
	for _, c := range calls {
		i := int(c.Start.Sub(t0) / width)
		for len(out) <= i {
			out = append(out, window{})
		}
		out[i].calls++
		if c.Fault == faultproxy.Throttle {
			out[i].throttled++
		}
	}
	return out
}

// thirds returns the throttled share of the first and last third of the
// windows, by calls.
func thirds(ws []window) (first, last float64) {
	k := max(1, len(ws)/3)
	sum := func(part []window) float64 {
		var w window
		for _, p := range part {
			w.calls += p.calls
			w.throttled += p.throttled
		}
		return w.share()
	}
	return sum(ws[:k]), sum(ws[len(ws)-k:])
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
