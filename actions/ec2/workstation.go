package ec2

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsperm"
)

// roleWorkstation is the firebreak:role tag of everything
// create-workstation makes; with firebreak:case it is how a rerun finds it.
const roleWorkstation = "workstation"

// workstationCaseID limits the case ids a workstation is named after to
// what IAM and EC2 names accept.
var workstationCaseID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.=@+-]{0,40}$`)

// workstation builds a forensic workstation for a case: an instance in a
// network without internet access, reachable only on tcp/22 from the
// examiner's range, with a volume made from each of the case's snapshots
// attached. Idempotent per case: a rerun finds every piece by its tags
// (the instance profile by its name) and makes only what is missing.
type workstation struct {
	ec2    func(region string) workstationEC2
	iam    workstationIAM
	region func(string) string
}

var _ engine.Action = (*workstation)(nil)

func registerWorkstation(r *engine.Registry, c *awsapi.Clients) {
	r.Register(&workstation{ec2: func(region string) workstationEC2 { return c.EC2(region) }, iam: c.IAM(), region: c.Region})
}

// workstationParams declare create-workstation's parameters.
type workstationParams struct {
	AMIID          string        `param:"ami_id,required" doc:"the examiner's forensic image (e.g. a SIFT build)"`
	ExaminerCIDR   string        `param:"examiner_cidr,required" doc:"IPv4 CIDR allowed in on tcp/22, /8 or narrower"`
	CaseID         string        `param:"case_id" default:"" doc:"the case whose snapshots (tag firebreak:case) to mount; empty: this run's case"`
	SubnetID       string        `param:"subnet_id" default:"" doc:"put the workstation here instead of in a new VPC without internet"`
	EvidenceBucket string        `param:"evidence_bucket" default:"" doc:"S3 bucket the workstation's instance profile may read; empty: no profile"`
	InstanceType   string        `param:"instance_type" default:"t3.large"`
	KeyName        string        `param:"key_name" default:"" doc:"EC2 key pair for SSH"`
	Region         string        `param:"region" default:"" doc:"empty: the run's default"`
	WaitTimeout    time.Duration `param:"wait_timeout" default:"15m" doc:"how long to wait for the instance and the volumes"`
	AnalysisTools  bool          `param:"analysis_tools" default:"true" doc:"user data installs what analyze-disk and analyze-memory run (Debian's sleuthkit and yara, or the same packages with dnf/yum); the workstation needs a reachable package mirror (its own VPC has no internet), else it says on its console what is missing"`
}

func (*workstation) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name:    "create-workstation",
		Summary: "Forensic workstation for a case: its own VPC and subnet without internet (or a given subnet), a group allowing only tcp/22 from the examiner, a volume from each case snapshot attached, read access to the evidence bucket",
		Params:  engine.ParamsOf[workstationParams](),
		Outputs: []engine.Output{
			{Name: "instance_id", Type: engine.TypeString, Headline: true},
			{Name: "private_ip", Type: engine.TypeString, Headline: true},
			{Name: "volume_ids", Type: engine.TypeList, Doc: "one per case snapshot, in snapshot order", Headline: true},
			{Name: "devices", Type: engine.TypeMap, Doc: "volume id -> device name"},
			{Name: "vpc_id", Type: engine.TypeString},
			{Name: "subnet_id", Type: engine.TypeString},
			{Name: "security_group_id", Type: engine.TypeString},
			{Name: "instance_profile", Type: engine.TypeString, Doc: "empty without evidence_bucket"},
		},
		Calls: workstationCalls,
		// CreateVolume from snapshots encrypted with a customer managed key
		// needs the key permissions as well.
		Permissions: awsperm.ForCalls(workstationCalls, append([]string{"iam:PassRole"}, kmsEBSPermissions...)...),
		// The workstation's role gets an inline policy to read the
		// evidence bucket, and is passed to the instance.
		Grants:   []engine.Grant{awsperm.InlinePolicyWritesOn("LetWorkstationReadEvidence", []string{"firebreak-workstation-*"}, nil, "iam:PutRolePolicy"), awsperm.PassOwnRolesToEC2},
		Mutating: true,
	}
}

var workstationCalls = []string{
	"ec2:DescribeSnapshots", "ec2:DescribeAvailabilityZones", "ec2:DescribeVpcs", "ec2:CreateVpc", "ec2:DescribeSubnets",
	"ec2:CreateSubnet", "ec2:DescribeVpcEndpoints", "ec2:DescribeRouteTables", "ec2:CreateVpcEndpoint", "ec2:DescribePrefixLists",
	"ec2:DescribeSecurityGroups", "ec2:CreateSecurityGroup", "ec2:AuthorizeSecurityGroupIngress",
	"ec2:RevokeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress",
	"iam:GetRole", "iam:CreateRole", "iam:PutRolePolicy", "iam:GetInstanceProfile", "iam:CreateInstanceProfile",
	"iam:AddRoleToInstanceProfile", "ec2:DescribeInstances", "ec2:RunInstances", "ec2:DescribeVolumes", "ec2:CreateVolume",
	"ec2:AttachVolume", "ec2:CreateTags",
}

// wsRun carries one run of create-workstation between its parts.
type wsRun struct {
	in      *engine.StepInput
	p       workstationParams
	api     workstationEC2
	region  string
	caseID  string
	cidr    netip.Prefix
	timeout time.Duration
	tags    map[string]string // firebreak:case and firebreak:role on everything
}

func (a *workstation) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	x, err := a.prepare(in)
	if err != nil {
		return nil, fmt.Errorf("create-workstation: %w", err)
	}
	out, err := a.build(ctx, x)
	if err != nil {
		return nil, fmt.Errorf("create-workstation for case %q: %w", x.caseID, err)
	}
	return out, nil
}

func (a *workstation) prepare(in *engine.StepInput) (*wsRun, error) {
	p, err := engine.Decode[workstationParams](in.Params)
	if err != nil {
		return nil, err
	}
	caseID := p.CaseID
	if caseID == "" {
		caseID = in.CaseID
	}
	if !workstationCaseID.MatchString(caseID) {
		return nil, fmt.Errorf("case id %q cannot name a workstation: give case_id, letters, digits and _.=@+- up to 41", caseID)
	}
	cidr, err := netip.ParsePrefix(p.ExaminerCIDR)
	if err != nil || !cidr.Addr().Is4() || cidr.Bits() < 8 {
		return nil, fmt.Errorf("examiner_cidr %q is not an IPv4 CIDR of /8 or narrower: give the examiner's range, e.g. 198.51.100.7/32", p.ExaminerCIDR)
	}
	if p.WaitTimeout <= 0 {
		return nil, fmt.Errorf("wait_timeout %v is not positive: give a duration such as \"15m\"", p.WaitTimeout)
	}
	region := a.region(p.Region)
	return &wsRun{
		in: in, p: p, api: a.ec2(region), region: region, caseID: caseID, cidr: cidr.Masked(),
		timeout: p.WaitTimeout,
		tags:    map[string]string{awsapi.TagCase: caseID, awsapi.TagRole: roleWorkstation},
	}, nil
}

// build makes or finds each piece in order; each needs the one before.
func (a *workstation) build(ctx context.Context, x *wsRun) (engine.Outputs, error) {
	snaps, err := x.caseSnapshots(ctx)
	if err != nil {
		return nil, err
	}
	given, bucket := x.p.SubnetID, x.p.EvidenceBucket
	vpc, subnet, az, err := x.network(ctx, given)
	if err != nil {
		return nil, err
	}
	prefixList := ""
	if given == "" && bucket != "" {
		if prefixList, err = x.s3Endpoint(ctx, vpc, bucket); err != nil {
			return nil, err
		}
	}
	sg, err := x.securityGroup(ctx, vpc, prefixList)
	if err != nil {
		return nil, err
	}
	profile, err := ensureEvidenceProfile(ctx, a.iam, x.in.Evidence, x.caseID, bucket)
	if err != nil {
		return nil, err
	}
	inst, err := x.instance(ctx, subnet, sg, profile)
	if err != nil {
		return nil, err
	}
	vols, devices, err := x.volumes(ctx, snaps, inst, az)
	if err != nil {
		return nil, err
	}
	return engine.Outputs{
		"instance_id": inst.id, "private_ip": inst.privateIP, "volume_ids": stringsAny(vols), "devices": devices,
		"vpc_id": vpc, "subnet_id": subnet, "security_group_id": sg, "instance_profile": profile,
	}, nil
}
