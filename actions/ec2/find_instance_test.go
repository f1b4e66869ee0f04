package ec2

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsfixture"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

func TestTargetFilterRejectsBadTargets(t *testing.T) {
	tests := []struct {
		name, target, want string
	}{
		{"id", "i-0123456789abcdef0", "instance-id"},
		{"private", "10.1.2.3", "private-ip-address"},
		{"carrier grade nat is private", "100.64.1.1", "private-ip-address"},
		{"public", "203.0.113.9", "ip-address"},
		{"hostname", "web-1", "error"},
		{"ipv6", "2001:db8::1", "error"},
		{"empty", "", "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := targetFilter(tt.target)
			got := "error"
			if err == nil {
				got = *f[0].Name
			} else if !strings.Contains(err.Error(), "neither an instance id") {
				t.Errorf("error: got %q, want it to say what a target is", err)
			}
			if got != tt.want {
				t.Errorf("targetFilter(%q): got %s, want %s", tt.target, got, tt.want)
			}
		})
	}
}

func TestFindInstanceAcrossRegions(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	// A second world in another region, and one instance in each world on
	// the same private address: searching by it must be ambiguous.
	west := hw.moto.Config()
	west.Region = "us-west-2"
	ww, err := awsfixture.Build(ctx, west)
	if err != nil {
		t.Fatalf("building the us-west-2 world: %v", err)
	}
	const shared = "10.42.1.200"
	for _, w := range []struct {
		cfg aws.Config
		wd  *awsfixture.World
	}{{hw.moto.Config(), hw.w}, {west, ww}} {
		if _, err := ec2.NewFromConfig(w.cfg).RunInstances(ctx, &ec2.RunInstancesInput{
			ImageId: aws.String(w.wd.AMIID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: types.InstanceTypeT3Micro,
			SubnetId: aws.String(w.wd.SubnetIDs[0]), PrivateIpAddress: aws.String(shared),
		}); err != nil {
			t.Fatalf("launching an instance on %s in %s: %v", shared, w.cfg.Region, err)
		}
	}
	a := &findInstance{api: func(r string) findAPI { return hw.clients.EC2(r) }}
	tests := []struct {
		name, target       string
		regions            []any
		wantRegion, wantID string
		wantErr            string
	}{
		{name: "by id, every enabled region", target: hw.w.InstanceID, wantRegion: "us-east-1", wantID: hw.w.InstanceID},
		{name: "by id in the other region", target: ww.InstanceID, regions: []any{"us-east-1", "us-west-2"}, wantRegion: "us-west-2", wantID: ww.InstanceID},
		{name: "by private ip", target: hw.w.PrivateIP, regions: []any{"us-east-1", "eu-west-1"}, wantRegion: "us-east-1", wantID: hw.w.InstanceID},
		{name: "by the secondary ENI's private ip", target: hw.secondaryIP(t, ctx), regions: []any{"us-east-1"}, wantRegion: "us-east-1", wantID: hw.w.InstanceID},
		{name: "by the secondary ENI's Elastic IP", target: hw.secondaryEIP(t, ctx), regions: []any{"us-east-1"}, wantRegion: "us-east-1", wantID: hw.w.InstanceID},
		{name: "by public ip", target: hw.w.PublicIP, regions: []any{"us-east-1", "us-west-2"}, wantRegion: "us-east-1", wantID: hw.w.InstanceID},
		{name: "two on one private ip", target: shared, regions: []any{"us-east-1", "us-west-2"}, wantErr: "2 instances match"},
		{name: "none", target: "i-0000000000000dead", regions: []any{"us-east-1", "us-west-2"}, wantErr: "no instance matches"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "by public ip" && hw.w.PublicIP == "" {
				t.Skip("moto gave the instance no public address")
			}
			p := engine.Params{"target": tt.target, "concurrency": 4}
			if tt.regions != nil {
				p["regions"] = tt.regions
			}
			out, _, err := hostRun(ctx, a, "cr-find", "find", p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error: got %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if out["region"] != tt.wantRegion || out["instance_id"] != tt.wantID {
				t.Errorf("got %v/%v, want %s/%s", out["region"], out["instance_id"], tt.wantRegion, tt.wantID)
			}
		})
	}
}

func (hw *hostWorld) secondaryIP(t *testing.T, ctx context.Context) string {
	t.Helper()
	out, err := hw.check.EC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{hw.w.SecondaryENI}})
	if err != nil || len(out.NetworkInterfaces) != 1 {
		t.Fatalf("describing the secondary ENI: %v", err)
	}
	return aws.ToString(out.NetworkInterfaces[0].PrivateIpAddress)
}

// secondaryEIP puts an Elastic IP on the secondary ENI: the instance's
// public-address filter does not see it.
func (hw *hostWorld) secondaryEIP(t *testing.T, ctx context.Context) string {
	t.Helper()
	eip, err := hw.check.EC2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc, Address: aws.String("198.51.100.77")})
	if err != nil {
		t.Fatalf("AllocateAddress: %v", err)
	}
	if _, err := hw.check.EC2.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: eip.AllocationId, NetworkInterfaceId: aws.String(hw.w.SecondaryENI)}); err != nil {
		t.Fatalf("AssociateAddress: %v", err)
	}
	return aws.ToString(eip.PublicIp)
}
