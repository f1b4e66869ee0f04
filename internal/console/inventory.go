package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// EC2 is what the inventory reads of EC2 in one region; *ec2.Client is one.
type EC2 interface {
	DescribeRegions(ctx context.Context, in *ec2.DescribeRegionsInput, opts ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error)
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeInstanceTypes(ctx context.Context, in *ec2.DescribeInstanceTypesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstanceTypesOutput, error)
	DescribeVolumes(ctx context.Context, in *ec2.DescribeVolumesInput, opts ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error)
}

// Inventory settings.
const (
	// DefaultInventoryTTL is how long an inventory is served from cache
	// before the next page reads the account again (the Refresh button
	// reads it at once).
	DefaultInventoryTTL = time.Minute
	// DefaultCaptureMiBps is the rate the capture time estimate assumes:
	// a capture streams memory over SSH and is bound by the network (about
	// 110 MiB/s on 1 Gbit/s) and by SHA-256 and AES-GCM on the responder's
	// side; `firebreak-lab bench --only memory` measures it against `ssh
	// cat` of the same source (0.75-0.87 of it). Set --capture-rate to
	// what that bench gives on your link.
	DefaultCaptureMiBps = 100
	// regionsAtOnce bounds the regions read concurrently.
	regionsAtOnce = 8
)

// instance is one EC2 instance as the inventory shows it.
type instance struct {
	ID        string            `json:"id"`
	Region    string            `json:"region"`
	AZ        string            `json:"availability_zone"`
	Name      string            `json:"name,omitempty"`
	State     string            `json:"state"`
	Type      string            `json:"instance_type"`
	Platform  string            `json:"platform"`
	AMI       string            `json:"ami"`
	VPC       string            `json:"vpc,omitempty"`
	Subnet    string            `json:"subnet,omitempty"`
	PrivateIP string            `json:"private_ip,omitempty"`
	PublicIP  string            `json:"public_ip,omitempty"`
	Launched  time.Time         `json:"launched_at,omitzero"`
	Tags      map[string]string `json:"tags,omitempty"`
	MemoryMiB int64             `json:"memory_mib,omitempty"`
	Volumes   []volume          `json:"volumes,omitempty"`
	// CaptureSeconds estimates a memory capture at the capture rate.
	CaptureSeconds int64 `json:"capture_estimate_s,omitempty"`
	// Case and Status are firebreak's tags: the case the instance is
	// under (firebreak:case) and what was done (firebreak:status:
	// isolated, released).
	Case   string `json:"case,omitempty"`
	Status string `json:"firebreak_status,omitempty"`
}

type volume struct {
	ID      string `json:"id"`
	Device  string `json:"device,omitempty"`
	SizeGiB int32  `json:"size_gib"`
	Type    string `json:"type,omitempty"`
	State   string `json:"state,omitempty"`
}

// DiskGiB is the size of every volume attached.
func (i *instance) DiskGiB() int64 {
	var n int64
	for _, v := range i.Volumes {
		n += int64(v.SizeGiB)
	}
	return n
}

// inventorySnapshot is one reading of the account.
type inventorySnapshot struct {
	At        time.Time
	Took      time.Duration
	Instances []*instance
	Regions   []regionCount
	byID      map[string]*instance
}

type regionCount struct {
	Region string `json:"region"`
	Count  int    `json:"count"`
	Error  string `json:"error,omitempty"`
}

// inventory caches the last reading for a TTL; one reading at a time.
type inventory struct {
	ec2     func(region string) EC2
	regions []string // fixed; empty: ec2:DescribeRegions
	home    string   // where DescribeRegions is asked
	ttl     time.Duration
	rate    float64 // MiB/s
	now     func() time.Time

	mu      sync.Mutex
	snap    *inventorySnapshot
	loading chan struct{}
	err     error
}

var errNoInventory = errors.New("the inventory needs AWS: serve was started without an AWS set-up")

// get returns the cached reading, or reads the account when it is older
// than the TTL or refresh is asked. Concurrent callers share one reading.
func (inv *inventory) get(ctx context.Context, refresh bool) (*inventorySnapshot, error) {
	if inv == nil || inv.ec2 == nil {
		return nil, errNoInventory
	}
	inv.mu.Lock()
	if !refresh && inv.snap != nil && inv.now().Sub(inv.snap.At) < inv.ttl {
		s := inv.snap
		inv.mu.Unlock()
		return s, nil
	}
	wait := inv.loading
	if wait == nil {
		inv.loading = make(chan struct{})
		wait = inv.loading
		go inv.load(context.WithoutCancel(ctx))
	}
	inv.mu.Unlock()
	select {
	case <-wait:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.snap == nil {
		return nil, inv.err
	}
	return inv.snap, nil
}

// peek returns an instance of the cached reading, without reading.
func (inv *inventory) peek(id string) (*instance, bool) {
	if inv == nil {
		return nil, false
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.snap == nil {
		return nil, false
	}
	in, ok := inv.snap.byID[id]
	return in, ok
}

func (inv *inventory) load(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	start := inv.now()
	snap, err := inv.read(ctx)
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if err == nil {
		snap.At, snap.Took = inv.now(), inv.now().Sub(start)
		inv.snap = snap
	}
	inv.err = err
	close(inv.loading)
	inv.loading = nil
}

// read lists the regions, then reads each concurrently. A region that
// fails is listed with its error; the others are shown.
func (inv *inventory) read(ctx context.Context) (*inventorySnapshot, error) {
	regions := inv.regions
	if len(regions) == 0 {
		out, err := inv.ec2(inv.home).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
		if err != nil {
			return nil, fmt.Errorf("ec2:DescribeRegions: %w", err)
		}
		for _, r := range out.Regions {
			regions = append(regions, aws.ToString(r.RegionName))
		}
		sort.Strings(regions)
	}
	snap := &inventorySnapshot{Regions: make([]regionCount, len(regions)), byID: map[string]*instance{}}
	found := make([][]*instance, len(regions))
	sem := make(chan struct{}, regionsAtOnce)
	var wg sync.WaitGroup
	for i, r := range regions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			list, err := inv.readRegion(ctx, r)
			snap.Regions[i] = regionCount{Region: r, Count: len(list)}
			if err != nil {
				snap.Regions[i].Error = err.Error()
			}
			found[i] = list
		}()
	}
	wg.Wait()
	for _, list := range found {
		for _, in := range list {
			snap.Instances = append(snap.Instances, in)
			snap.byID[in.ID] = in
		}
	}
	return snap, nil
}

func (inv *inventory) readRegion(ctx context.Context, region string) ([]*instance, error) {
	c := inv.ec2(region)
	var list []*instance
	p := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return list, fmt.Errorf("ec2:DescribeInstances: %w", err)
		}
		for _, res := range page.Reservations {
			for _, x := range res.Instances {
				list = append(list, fromEC2(region, x))
			}
		}
	}
	if len(list) == 0 {
		return nil, nil
	}
	var errs []error
	if err := inv.addMemory(ctx, c, list); err != nil {
		errs = append(errs, err)
	}
	if err := addVolumes(ctx, c, list); err != nil {
		errs = append(errs, err)
	}
	for _, in := range list {
		if in.MemoryMiB > 0 && inv.rate > 0 {
			in.CaptureSeconds = int64(float64(in.MemoryMiB)/inv.rate + 0.5)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	return list, errors.Join(errs...)
}

func fromEC2(region string, x types.Instance) *instance {
	in := &instance{ID: aws.ToString(x.InstanceId), Region: region, Type: string(x.InstanceType), AMI: aws.ToString(x.ImageId),
		VPC: aws.ToString(x.VpcId), Subnet: aws.ToString(x.SubnetId), PrivateIP: aws.ToString(x.PrivateIpAddress),
		PublicIP: aws.ToString(x.PublicIpAddress), Launched: aws.ToTime(x.LaunchTime), Tags: map[string]string{},
		Platform: aws.ToString(x.PlatformDetails)}
	if in.Platform == "" {
		in.Platform = "Linux/UNIX"
		if x.Platform != "" {
			in.Platform = string(x.Platform)
		}
	}
	if x.State != nil {
		in.State = string(x.State.Name)
	}
	if x.Placement != nil {
		in.AZ = aws.ToString(x.Placement.AvailabilityZone)
	}
	for _, t := range x.Tags {
		in.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	in.Name, in.Case, in.Status = in.Tags["Name"], in.Tags["firebreak:case"], in.Tags["firebreak:status"]
	for _, m := range x.BlockDeviceMappings {
		if m.Ebs != nil {
			in.Volumes = append(in.Volumes, volume{ID: aws.ToString(m.Ebs.VolumeId), Device: aws.ToString(m.DeviceName)})
		}
	}
	return in
}

// addMemory sets each instance's memory from its type (100 types a call).
func (inv *inventory) addMemory(ctx context.Context, c EC2, list []*instance) error {
	seen := map[string]bool{}
	var kinds []types.InstanceType
	for _, in := range list {
		if in.Type != "" && !seen[in.Type] {
			seen[in.Type] = true
			kinds = append(kinds, types.InstanceType(in.Type))
		}
	}
	mem := map[string]int64{}
	for len(kinds) > 0 {
		n := min(len(kinds), 100)
		out, err := c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: kinds[:n]})
		if err != nil {
			return fmt.Errorf("ec2:DescribeInstanceTypes: %w", err)
		}
		for _, t := range out.InstanceTypes {
			if t.MemoryInfo != nil {
				mem[string(t.InstanceType)] = aws.ToInt64(t.MemoryInfo.SizeInMiB)
			}
		}
		kinds = kinds[n:]
	}
	for _, in := range list {
		in.MemoryMiB = mem[in.Type]
	}
	return nil
}

// addVolumes sets the size and type of each attached volume.
func addVolumes(ctx context.Context, c EC2, list []*instance) error {
	vols := map[string]types.Volume{}
	p := ec2.NewDescribeVolumesPaginator(c, &ec2.DescribeVolumesInput{
		Filters: []types.Filter{{Name: aws.String("attachment.status"), Values: []string{"attached"}}}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("ec2:DescribeVolumes: %w", err)
		}
		for _, v := range page.Volumes {
			vols[aws.ToString(v.VolumeId)] = v
		}
	}
	for _, in := range list {
		for i := range in.Volumes {
			if v, ok := vols[in.Volumes[i].ID]; ok {
				in.Volumes[i].SizeGiB, in.Volumes[i].Type, in.Volumes[i].State = aws.ToInt32(v.Size), string(v.VolumeType), string(v.State)
			}
		}
	}
	return nil
}

// filter is what the inventory page and GET /api/instances narrow by.
type filter struct {
	Q, Region, State, AMI, VPC, Type string
}

func filterOf(r *http.Request) filter {
	q := r.URL.Query()
	return filter{Q: strings.TrimSpace(q.Get("q")), Region: q.Get("region"), State: q.Get("state"), AMI: q.Get("ami"), VPC: q.Get("vpc"), Type: q.Get("type")}
}

// match: each field equal when set; Q a case-blind substring of the id,
// name, IPs, AMI, VPC, subnet, type, state, case or any tag key=value.
func (f filter) match(in *instance) bool {
	if (f.Region != "" && in.Region != f.Region) || (f.State != "" && in.State != f.State) || (f.AMI != "" && in.AMI != f.AMI) ||
		(f.VPC != "" && in.VPC != f.VPC) || (f.Type != "" && in.Type != f.Type) {
		return false
	}
	if f.Q == "" {
		return true
	}
	q := strings.ToLower(f.Q)
	for _, s := range []string{in.ID, in.Name, in.PrivateIP, in.PublicIP, in.AMI, in.VPC, in.Subnet, in.Type, in.State, in.Case, in.Status} {
		if strings.Contains(strings.ToLower(s), q) {
			return true
		}
	}
	for k, v := range in.Tags {
		if strings.Contains(strings.ToLower(k+"="+v), q) {
			return true
		}
	}
	return false
}

func (f filter) apply(list []*instance) []*instance {
	out := make([]*instance, 0, len(list))
	for _, in := range list {
		if f.match(in) {
			out = append(out, in)
		}
	}
	return out
}
