// Package awsfixture builds, through the AWS SDK against any endpoint (in
// tests: moto_server), the world of a compromised EC2 instance: a VPC with
// two subnets, security groups with real rules, an instance with two ENIs
// and two EBS volumes, an IAM role and instance profile associated to it,
// an Auto Scaling group and load balancers it belongs to, and tags.
//
// Actions are tested against this world so that every test sees the same,
// realistic starting point. Build makes a new world each call; names carry
// a random suffix so two worlds can live on one server.
package awsfixture

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// World holds the ids of everything Build made.
type World struct {
	Region string
	Suffix string // random suffix in every name of this world

	VPCID     string
	SubnetIDs []string // [0] holds the instance and both ENIs; [1] is in another AZ (for the load balancers)
	AZ        string   // the instance's availability zone
	// NetworkACLIDs are the ACLs associated with SubnetIDs[0] (the VPC's
	// default) and SubnetIDs[1] (its own, allow all).
	NetworkACLIDs []string

	// WebGroupID allows tcp/443 from anywhere and tcp/22 from 10.0.0.0/8;
	// AdminGroupID allows tcp/8443 from 192.0.2.0/24; DBGroupID allows
	// tcp/5432 from WebGroupID. All keep the default allow-all egress.
	WebGroupID, AdminGroupID, DBGroupID string
	// GroupsByENI is the groups each ENI starts with.
	GroupsByENI map[string][]string

	AMIID            string
	InstanceID       string
	ShutdownBehavior string // "terminate": what the instance does on a shutdown from inside
	PrivateIP        string
	PublicIP         string // "" when the endpoint assigned none
	PrimaryENI       string // device 0: web + admin groups
	SecondaryENI     string // device 1: db group
	ENIIDs           []string
	RootVolumeID     string // DeleteOnTermination true
	DataVolumeID     string // DeleteOnTermination true
	VolumeIDs        []string

	RoleName            string
	RoleARN             string
	ManagedPolicyARN    string // attached to the role
	InstanceProfileName string
	InstanceProfileARN  string

	ASGName         string // the instance is attached (AttachInstances)
	LoadBalancerARN string // internal ALB with a listener forwarding to TargetGroupARN
	TargetGroupARN  string // the instance is a registered target
	ClassicELBName  string // the instance is registered

	Tags map[string]string // the instance's own tags, as Build set them
}

// Clients are the SDK clients Build uses; NewClients makes them from a config.
type Clients struct {
	EC2         *ec2.Client
	IAM         *iam.Client
	AutoScaling *autoscaling.Client
	ELBv2       *elbv2.Client
	ELB         *elb.Client
}

// NewClients makes the clients Build needs from cfg.
func NewClients(cfg aws.Config) *Clients {
	return &Clients{
		EC2:         ec2.NewFromConfig(cfg),
		IAM:         iam.NewFromConfig(cfg),
		AutoScaling: autoscaling.NewFromConfig(cfg),
		ELBv2:       elbv2.NewFromConfig(cfg),
		ELB:         elb.NewFromConfig(cfg),
	}
}

// Build makes a new compromised-instance world in cfg's region and returns
// its ids. It waits for nothing: moto creates everything at once; against
// real AWS the instance may still be pending when Build returns.
func Build(ctx context.Context, cfg aws.Config) (*World, error) {
	w := &World{Region: cfg.Region, Suffix: randomSuffix(), GroupsByENI: map[string][]string{}, ShutdownBehavior: "terminate"}
	c := NewClients(cfg)
	steps := []struct {
		name string
		fn   func(context.Context, *Clients) error
	}{
		{"network", w.buildNetwork},
		{"security groups", w.buildGroups},
		{"iam", w.buildIAM},
		{"instance", w.buildInstance},
		{"auto scaling group", w.buildASG},
		{"load balancers", w.buildLoadBalancers},
	}
	for _, s := range steps {
		if err := s.fn(ctx, c); err != nil {
			return nil, fmt.Errorf("building fixture %s: %w", s.name, err)
		}
	}
	return w, nil
}

func randomSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (w *World) name(base string) string { return base + "-" + w.Suffix }
