package bench

import (
	"context"
	"fmt"
	"os"

	"github.com/firebreak-ir/firebreak/actions/all"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/engine/runner"
	"github.com/firebreak-ir/firebreak/engine/session"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsfixture"
	"github.com/firebreak-ir/firebreak/internal/faultproxy"
	"github.com/firebreak-ir/firebreak/internal/motoserver"
	"github.com/firebreak-ir/firebreak/playbooks"
)

// aws is moto behind a fault proxy, and one compromised-instance world.
type awsEnv struct {
	moto  *motoserver.Server
	proxy *faultproxy.Proxy
	world *awsfixture.World
	check *awsfixture.Clients // straight to moto
	dir   string              // evidence and state
}

func startAWS(ctx context.Context, seed uint64) (*awsEnv, error) {
	m, err := motoserver.Start(ctx)
	if err != nil {
		return nil, err
	}
	e := &awsEnv{moto: m}
	if e.proxy, err = faultproxy.Start(m.URL, seed); err != nil {
		e.close()
		return nil, err
	}
	direct := sdkConfig(m.URL, "standard")
	e.check = awsfixture.NewClients(direct)
	if e.world, err = awsfixture.Build(ctx, direct); err != nil {
		e.close()
		return nil, err
	}
	if e.dir, err = os.MkdirTemp("", "firebreak-bench-"); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

func (e *awsEnv) close() {
	if e.proxy != nil {
		e.proxy.Close()
	}
	e.moto.Stop()
	if e.dir != "" {
		os.RemoveAll(e.dir)
	}
}

// sdkConfig is the configuration firebreak loads (awsapi.LoadConfig:
// awsapi.NewRetryer: adaptive, no retry quota, 5 attempts) with static credentials and endpoint, or
// the SDK's standard retry mode for comparison.
func sdkConfig(endpoint, mode string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("bench", "bench", ""),
		BaseEndpoint: aws.String(endpoint),
		Retryer: func() aws.Retryer {
			if mode == "adaptive" {
				return awsapi.NewRetryer(5) // what firebreak ships
			}
			return retry.NewStandard(func(so *retry.StandardOptions) { so.MaxAttempts = 5 })
		},
	}
}

// launch starts n more instances (root and a data volume each) in the
// world's subnet.
func (e *awsEnv) launch(ctx context.Context, n int) ([]string, error) {
	out, err := e.check.EC2.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String(e.world.AMIID), MinCount: aws.Int32(int32(n)), MaxCount: aws.Int32(int32(n)),
		InstanceType: types.InstanceTypeT3Micro, SubnetId: aws.String(e.world.SubnetIDs[0]), SecurityGroupIds: []string{e.world.WebGroupID},
		BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/sdf"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(1)}}},
	})
	if err != nil {
		return nil, fmt.Errorf("launching %d instances: %w", n, err)
	}
	var ids []string
	for _, in := range out.Instances {
		ids = append(ids, aws.ToString(in.InstanceId))
	}
	return ids, nil
}

// hostRunner runs host-compromise on instances, sharing one set of SDK
// clients as one firebreak process does.
type hostRunner struct {
	pb       *engine.Playbook
	store    *evidence.DirStore
	sessions *session.Manager
}

func (e *awsEnv) hostRunner(cfg aws.Config) (*hostRunner, error) {
	reg := all.Registry(awsapi.NewClients(cfg), all.Options{})
	data, err := playbooks.FS.ReadFile("host-compromise.yaml")
	if err != nil {
		return nil, err
	}
	pb, err := (&loader.Loader{Registry: reg}).LoadBytes("builtin:host-compromise.yaml", data)
	if err != nil {
		return nil, err
	}
	store, err := evidence.NewDirStore(e.dir + "/evidence")
	if err != nil {
		return nil, err
	}
	m := &session.Manager{Backend: &session.Local{Registry: reg, StateDir: e.dir + "/state"}}
	return &hostRunner{pb: pb, store: store, sessions: m}, nil
}

// run contains one instance, as `firebreak run` does, and returns the
// runner's result; a run that does not succeed, or whose case is not
// sealed, is an error.
func (h *hostRunner) run(ctx context.Context, instanceID string) (*runner.Result, error) {
	inputs, err := loader.ResolveInputs(h.pb, map[string]any{"instance_id": instanceID}, nil)
	if err != nil {
		return nil, err
	}
	run, err := h.sessions.Start(ctx, &session.Request{Playbook: h.pb, Inputs: inputs, Store: h.store})
	if err != nil {
		return nil, err
	}
	out := run.Wait()
	if out.Result == nil || out.Manifest == nil {
		return nil, fmt.Errorf("host-compromise of %q: %w", instanceID, out.Err)
	}
	res := out.Result
	if out.Status != engine.RunSucceeded {
		for _, s := range res.Steps {
			if s.Error != "" {
				return nil, fmt.Errorf("host-compromise of %q: step %s: %s", instanceID, s.ID, s.Error)
			}
		}
		return nil, fmt.Errorf("host-compromise of %q: %s", instanceID, out.Status)
	}
	return res, nil
}
