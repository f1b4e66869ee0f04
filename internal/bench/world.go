package bench

import (
	"bytes"
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
	cfg := sdkConfig(m.URL, direct, 0)
	e.check = awsfixture.NewClients(cfg)
	if e.world, err = awsfixture.Build(ctx, cfg); err != nil {
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

// The configurations the benchmarks compare.
const (
	// direct: standard retries and nothing else, to build worlds and to
	// time chains of calls.
	direct = "direct"
	// shipped: what awsapi.LoadConfig makes: standard retries without a
	// retry quota, paced by the fleet-wide rate limiter.
	shipped = "firebreak"
	// adaptive: the previous default, the SDK's adaptive retry mode (a
	// client-side send rate per client) without the limiter.
	adaptive = "adaptive"
)

// sdkConfig is a configuration of mode with static credentials and the
// endpoint; shipped gets a registry of limiters of its own, with ceiling
// apiRate, shared by every client made from it (one firebreak process).
func sdkConfig(endpoint, mode string, apiRate float64) aws.Config {
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("bench", "bench", ""),
		BaseEndpoint: aws.String(endpoint),
		Retryer: func() aws.Retryer {
			switch mode {
			case shipped:
				return awsapi.NewRetryer(5)
			case adaptive:
				return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
					o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) { so.MaxAttempts = 5 })
				})
			}
			return retry.NewStandard(func(so *retry.StandardOptions) { so.MaxAttempts = 5 })
		},
	}
	if mode == shipped {
		awsapi.LimitRate(&cfg, awsapi.NewLimiters(apiRate))
	}
	return cfg
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
	// alone: no related instances looked for (a fleet: every instance of
	// it is related to every other by role and group, and is contained
	// itself).
	alone    bool
	pb       *engine.Playbook
	store    *evidence.DirStore
	sessions *session.Manager
}

func (e *awsEnv) hostRunner(cfg aws.Config) (*hostRunner, error) {
	return e.hostRunnerOf(cfg, false)
}

// hostRunnerOf runs the built-in host-compromise, or with collectFirst the
// order it had before isolation went first: isolate needing gather.
func (e *awsEnv) hostRunnerOf(cfg aws.Config, collectFirst bool) (*hostRunner, error) {
	reg := all.Registry(awsapi.NewClients(cfg), all.Options{})
	data, err := playbooks.FS.ReadFile("host-compromise.yaml")
	if err != nil {
		return nil, err
	}
	if collectFirst {
		data, err = collectFirstOrder(data)
		if err != nil {
			return nil, err
		}
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

// collectFirstOrder makes isolate wait for gather, as host-compromise did
// before isolation went first: the baseline of the isolation-first figures.
func collectFirstOrder(playbook []byte) ([]byte, error) {
	const step = "  - id: isolate\n    action: isolate\n"
	if !bytes.Contains(playbook, []byte(step)) {
		return nil, fmt.Errorf("host-compromise has no isolate step written as %q", step)
	}
	return bytes.Replace(playbook, []byte(step), []byte(step+"    needs: [gather]\n    when: always()\n"), 1), nil
}

// run contains one instance, as `firebreak run` does, and returns the
// runner's result; a run that does not succeed, or whose case is not
// sealed, is an error.
func (h *hostRunner) run(ctx context.Context, instanceID string) (*runner.Result, error) {
	given := map[string]any{"instance_id": instanceID}
	if h.alone {
		given["related_by"] = []any{}
	}
	inputs, err := loader.ResolveInputs(h.pb, given, nil)
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
