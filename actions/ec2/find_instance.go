package ec2

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/sync/errgroup"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsperm"
)

// findAPI is what find-instance needs from EC2; *ec2.Client has it.
type findAPI interface {
	DescribeRegions(ctx context.Context, in *ec2.DescribeRegionsInput, opts ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error)
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeNetworkInterfaces(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, opts ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error)
	DescribeAddresses(ctx context.Context, in *ec2.DescribeAddressesInput, opts ...func(*ec2.Options)) (*ec2.DescribeAddressesOutput, error)
}

// findInstance locates one instance by id, private or public IPv4 address
// across regions, searching them in parallel. It changes nothing.
type findInstance struct {
	api func(region string) findAPI
}

var _ engine.Action = (*findInstance)(nil)

func registerFindInstance(r *engine.Registry, c *awsapi.Clients) {
	r.Register(&findInstance{api: func(region string) findAPI { return c.EC2(region) }})
}

// findParams declare find-instance's parameters.
type findParams struct {
	Target      string   `param:"target,required" doc:"an instance id (i-...) or an IPv4 address: public, or private on any of its ENIs"`
	Regions     []string `param:"regions" doc:"regions to search; empty: every region enabled for the account (DescribeRegions)"`
	Concurrency int      `param:"concurrency" default:"8" doc:"regions searched at once"`
}

var findCalls = []string{"ec2:DescribeRegions", "ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces", "ec2:DescribeAddresses"}

func (*findInstance) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name:    "find-instance",
		Summary: "Find an instance by id, private or public IP across all enabled regions, in parallel",
		Params:  engine.ParamsOf[findParams](),
		Outputs: []engine.Output{
			{Name: "region", Type: engine.TypeString},
			{Name: "instance_id", Type: engine.TypeString, Headline: true},
			{Name: "state", Type: engine.TypeString, Doc: "running, stopped, ...", Headline: true},
			{Name: "private_ip", Type: engine.TypeString},
			{Name: "public_ip", Type: engine.TypeString},
		},
		Calls:       findCalls,
		Permissions: awsperm.ForCalls(findCalls),
	}
}

// match is one instance found, with its region.
type match struct {
	region string
	inst   types.Instance
}

func (a *findInstance) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := engine.Decode[findParams](in.Params)
	if err != nil {
		return nil, fmt.Errorf("find-instance: %w", err)
	}
	target := strings.TrimSpace(p.Target)
	filter, err := targetFilter(target)
	if err != nil {
		return nil, err
	}
	regions := p.Regions
	if len(regions) == 0 {
		if regions, err = a.enabledRegions(ctx); err != nil {
			return nil, err
		}
	}
	found, failed := a.search(ctx, regions, filter, max(1, p.Concurrency))
	return findResult(target, found, failed)
}

// targetFilter picks the DescribeInstances filter for an id or an address.
// Terminated instances are left out of an address search: their address
// may already belong to another instance.
func targetFilter(target string) ([]types.Filter, error) {
	if strings.HasPrefix(target, "i-") {
		return []types.Filter{{Name: aws.String("instance-id"), Values: []string{target}}}, nil
	}
	ip, err := netip.ParseAddr(target)
	if err != nil || !ip.Is4() {
		return nil, fmt.Errorf("find-instance: target %q is neither an instance id (i-...) nor an IPv4 address", target)
	}
	name := "ip-address"
	if ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || netip.MustParsePrefix("100.64.0.0/10").Contains(ip) {
		name = "private-ip-address"
	}
	return []types.Filter{
		{Name: aws.String(name), Values: []string{ip.String()}},
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped", "shutting-down"}},
	}, nil
}

func (a *findInstance) enabledRegions(ctx context.Context) ([]string, error) {
	// AllRegions false: only the regions enabled for this account.
	out, err := a.api("").DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		return nil, fmt.Errorf("find-instance: listing enabled regions (pass regions to skip this): %w", awsapi.Classify(err))
	}
	regions := make([]string, 0, len(out.Regions))
	for _, r := range out.Regions {
		regions = append(regions, aws.ToString(r.RegionName))
	}
	sort.Strings(regions)
	return regions, nil
}

// search asks every region at once, at most limit at a time. A failed
// region does not stop the others; its error is returned by region.
func (a *findInstance) search(ctx context.Context, regions []string, filter []types.Filter, limit int) ([]match, map[string]error) {
	results := make([][]match, len(regions))
	errs := make([]error, len(regions))
	var g errgroup.Group
	g.SetLimit(limit)
	for i, region := range regions {
		g.Go(func() error {
			results[i], errs[i] = searchRegion(ctx, a.api(region), region, filter)
			return nil
		})
	}
	_ = g.Wait()
	var found []match
	failed := map[string]error{}
	for i := range regions {
		found = append(found, results[i]...)
		if errs[i] != nil {
			failed[regions[i]] = errs[i]
		}
	}
	return found, failed
}

func searchRegion(ctx context.Context, api findAPI, region string, filter []types.Filter) ([]match, error) {
	found, err := describeMatches(ctx, api, region, filter)
	if err != nil {
		return nil, err
	}
	// The instance filters see only the primary ENI's primary addresses;
	// an address of a secondary ENI, or a secondary address, is found
	// through the ENIs.
	var ids map[string]bool
	switch aws.ToString(filter[0].Name) {
	case "private-ip-address":
		ids, err = instancesByENIAddress(ctx, api, filter[0].Values[0])
	case "ip-address":
		ids, err = instancesByElasticIP(ctx, api, filter[0].Values[0])
	default:
		return found, nil
	}
	if err != nil {
		return nil, err
	}
	for _, m := range found {
		delete(ids, aws.ToString(m.inst.InstanceId))
	}
	if len(ids) == 0 {
		return found, nil
	}
	more, err := describeMatches(ctx, api, region, []types.Filter{{Name: aws.String("instance-id"), Values: engine.SortedKeys(ids)}, filter[1]})
	return append(found, more...), err
}

func describeMatches(ctx context.Context, api findAPI, region string, filter []types.Filter) ([]match, error) {
	var found []match
	p := ec2.NewDescribeInstancesPaginator(api, &ec2.DescribeInstancesInput{Filters: filter})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, awsapi.Classify(err)
		}
		for _, r := range page.Reservations {
			for _, inst := range r.Instances {
				found = append(found, match{region: region, inst: inst})
			}
		}
	}
	return found, nil
}

func instancesByENIAddress(ctx context.Context, api findAPI, ip string) (map[string]bool, error) {
	return instancesOfENIs(ctx, api, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{
		{Name: aws.String("addresses.private-ip-address"), Values: []string{ip}},
	}})
}

// instancesByElasticIP finds the instance behind a public address that is
// not its primary one. EC2 gives a public address to any ENI but the
// primary one only as an Elastic IP, so DescribeAddresses finds them all
// (the association.public-ip filter of DescribeNetworkInterfaces would too,
// but moto does not implement it, so it could not be tested).
func instancesByElasticIP(ctx context.Context, api findAPI, ip string) (map[string]bool, error) {
	out, err := api.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{Filters: []types.Filter{{Name: aws.String("public-ip"), Values: []string{ip}}}})
	if err != nil {
		return nil, awsapi.Classify(err)
	}
	var enis []string
	for _, a := range out.Addresses {
		if a.NetworkInterfaceId != nil {
			enis = append(enis, aws.ToString(a.NetworkInterfaceId))
		}
	}
	if len(enis) == 0 {
		return map[string]bool{}, nil
	}
	return instancesOfENIs(ctx, api, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: enis})
}

// instancesOfENIs returns the instances the matching ENIs are attached to.
func instancesOfENIs(ctx context.Context, api findAPI, in *ec2.DescribeNetworkInterfacesInput) (map[string]bool, error) {
	ids := map[string]bool{}
	p := ec2.NewDescribeNetworkInterfacesPaginator(api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, awsapi.Classify(err)
		}
		for _, n := range page.NetworkInterfaces {
			if n.Attachment != nil && aws.ToString(n.Attachment.InstanceId) != "" {
				ids[aws.ToString(n.Attachment.InstanceId)] = true
			}
		}
	}
	return ids, nil
}

// findResult turns the search into outputs: exactly one match, and no
// failed region that could hide a second one.
func findResult(target string, found []match, failed map[string]error) (engine.Outputs, error) {
	if len(found) > 1 {
		where := make([]string, len(found))
		for i, m := range found {
			where[i] = m.region + "/" + aws.ToString(m.inst.InstanceId)
		}
		return nil, fmt.Errorf("find-instance: %d instances match %q (%s): give the instance id instead", len(found), target, strings.Join(where, ", "))
	}
	if len(failed) > 0 && (len(found) == 0 || !strings.HasPrefix(target, "i-")) {
		names := engine.SortedKeys(failed)
		err := fmt.Errorf("find-instance: searching %s for %q: %w (pass regions to search only where the instance can be)",
			strings.Join(names, ", "), target, failed[names[0]])
		if engine.IsRetryable(failed[names[0]]) {
			return nil, engine.Retryable(err)
		}
		return nil, err
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("find-instance: no instance matches %q in any searched region: check the id or address, or the regions searched", target)
	}
	m := found[0]
	return engine.Outputs{
		"region":      m.region,
		"instance_id": aws.ToString(m.inst.InstanceId),
		"state":       string(stateName(m.inst)),
		"private_ip":  aws.ToString(m.inst.PrivateIpAddress),
		"public_ip":   aws.ToString(m.inst.PublicIpAddress),
	}, nil
}

func stateName(inst types.Instance) types.InstanceStateName {
	if inst.State == nil {
		return ""
	}
	return inst.State.Name
}
