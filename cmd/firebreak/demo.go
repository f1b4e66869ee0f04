package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/internal/awsfixture"
	"github.com/firebreak-ir/firebreak/internal/motoserver"
)

func demoCommand(st *cliState) *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "run host-compromise end to end against a local AWS emulator (moto_server on loopback), then verify the evidence",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "evidence", Usage: "keep the evidence in `DIR` (default: a new temporary dir)"},
		},
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 0, 0, "[--evidence DIR]"); err != nil {
				return err
			}
			return st.demo(c.Context, c.String("evidence"))
		},
	}
}

// demoEnv points the AWS SDK at the emulator with dummy credentials, and
// away from every real credential and the instance metadata service: the
// demo must never reach real AWS, whatever the responder's set-up.
func demoEnv(url string) map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL": url, "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo", "AWS_SESSION_TOKEN": "demo",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_ROLE_ARN": "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
	}
}

func (st *cliState) demo(ctx context.Context, evidenceDir string) error {
	st.logf("starting moto_server on loopback...")
	srv, err := motoserver.Start(ctx)
	if errors.Is(err, motoserver.ErrNotInstalled) {
		return usageErrorf("%v; the demo needs it", err)
	}
	if err != nil {
		return fmt.Errorf("starting moto_server: %w", err)
	}
	defer srv.Stop()
	for k, v := range demoEnv(srv.URL) {
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	st.region, st.profile, st.endpoint = "us-east-1", "", srv.URL
	scratch, err := os.MkdirTemp("", "firebreak-demo-")
	if err != nil {
		return err
	}
	if evidenceDir == "" {
		evidenceDir = filepath.Join(scratch, "evidence") // kept, for the responder to look at
	} else {
		defer os.RemoveAll(scratch)
	}
	// The demo's runs stay out of the responder's own state dir.
	st.stateDir = filepath.Join(scratch, "state")

	clients := st.awsClients(ctx)
	if st.aws.err != nil {
		return st.aws.err
	}
	st.logf("building a compromised instance (2 ENIs, 2 volumes, instance profile, ASG, load balancers) at %s...", srv.URL)
	w, err := awsfixture.Build(ctx, clients.Config())
	if err != nil {
		return fmt.Errorf("building the demo world: %w", err)
	}
	st.logf("instance %s in %s; running host-compromise against it\n", w.InstanceID, w.VPCID)
	return st.demoRun(ctx, w.InstanceID, evidenceDir)
}

// demoRun runs the built-in host-compromise playbook as `firebreak run`
// would, then verifies what it wrote.
func (st *cliState) demoRun(ctx context.Context, instanceID, evidenceDir string) error {
	reg := st.registry(ctx, true)
	pb, err := st.find(reg, "host-compromise")
	if err != nil {
		return err
	}
	in := &runInputs{given: map[string]any{"instance_id": instanceID}}
	inputs, err := in.resolve(pb, in.given)
	if err != nil {
		return err
	}
	// A throw-away key shows the signed manifest being checked too.
	key := filepath.Join(filepath.Dir(st.stateDir), "demo-sign.pem")
	pub, err := evidence.GenerateEd25519Key(key)
	if err != nil {
		return err
	}
	j := &job{reg: reg, pb: pb, inputs: inputs, evidence: absLocation(evidenceDir), opts: runOptions{yes: true, signKey: key}}
	d := st.newDisplay()
	d.addRun("", pb)
	out := st.startJob(ctx, j, d)
	st.endDisplay(d)
	st.printSummary(out)
	if err := out.exitErr(); err != nil {
		return err
	}
	st.logf("\nverifying the evidence:")
	return st.verify(ctx, out.manifestURI, pub)
}
