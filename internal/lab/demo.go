// Package lab holds the commands that bring their own world: demo (a
// compromised instance on a local AWS emulator) and bench (figures against
// same-run baselines). They link the moto launcher, the demo fixture and
// the fault proxy, so they live in cmd/firebreak-lab, never in the
// responder's binary.
package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsfixture"
	"github.com/firebreak-ir/firebreak/internal/cli"
	"github.com/firebreak-ir/firebreak/internal/motoserver"
)

// Commands are the lab's commands, for cli.Execute.
func Commands() []*ucli.Command { return []*ucli.Command{demoCommand(), benchCommand()} }

func demoCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "demo",
		Usage: "run host-compromise end to end against a local AWS emulator (moto_server on loopback), then verify the evidence",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "evidence", Usage: "keep the evidence in `DIR` (default: a new temporary dir)"},
		},
		Action: func(c *ucli.Context) error {
			if c.NArg() > 0 {
				return cli.UsageError(errors.New("usage: firebreak-lab demo [--evidence DIR]"))
			}
			state, err := cli.StateDir(c.String("state-dir"))
			if err != nil {
				return err
			}
			d := &demo{stdin: c.App.Reader, stdout: c.App.Writer, stderr: c.App.ErrWriter, evidence: c.String("evidence"),
				venv: filepath.Join(state, "lab", "moto-venv")}
			return d.run(c.Context)
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

// demo runs the built-in host-compromise playbook through the same command
// line a responder uses (`firebreak run`, then `firebreak verify`), against
// a compromised instance built on moto_server.
type demo struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	evidence       string
	venv           string // where the demo installs moto when moto_server is not on PATH
}

func (d *demo) logf(format string, a ...any) { fmt.Fprintf(d.stderr, format+"\n", a...) }

func (d *demo) run(ctx context.Context) error {
	bin := motoserver.Find(d.venv)
	if bin == "" {
		var err error
		if bin, err = motoserver.Install(ctx, d.venv, d.logf); err != nil {
			return cli.UsageError(fmt.Errorf("the demo needs moto_server: %w", err))
		}
	}
	d.logf("starting moto_server on loopback (%s)...", bin)
	srv, err := motoserver.StartBin(ctx, bin)
	if err != nil {
		return fmt.Errorf("starting moto_server: %w", err)
	}
	defer srv.Stop()
	for k, v := range demoEnv(srv.URL) {
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	scratch, err := os.MkdirTemp("", "firebreak-demo-")
	if err != nil {
		return err
	}
	if d.evidence == "" {
		d.evidence = filepath.Join(scratch, "evidence") // kept, for the responder to look at
	} else {
		defer os.RemoveAll(scratch)
	}
	instanceID, err := d.world(ctx, srv.URL)
	if err != nil {
		return err
	}
	return d.respond(ctx, scratch, instanceID)
}

// world builds the compromised instance and returns its id.
func (d *demo) world(ctx context.Context, url string) (string, error) {
	cfg, err := awsapi.LoadConfig(ctx, awsapi.Options{Region: "us-east-1", Endpoint: url})
	if err != nil {
		return "", err
	}
	d.logf("building a compromised instance (2 ENIs, 2 volumes, instance profile, ASG, load balancers) at %s...", url)
	w, err := awsfixture.Build(ctx, cfg)
	if err != nil {
		return "", fmt.Errorf("building the demo world: %w", err)
	}
	d.logf("instance %s in %s; running host-compromise against it\n", w.InstanceID, w.VPCID)
	return w.InstanceID, nil
}

// respond runs host-compromise and verifies the case against a throw-away
// signing key, which shows the signed manifest being checked too. The
// demo's runs stay out of the responder's own state dir.
func (d *demo) respond(ctx context.Context, scratch, instanceID string) error {
	key := filepath.Join(scratch, "demo-sign.pem")
	if _, err := evidence.GenerateEd25519Key(key); err != nil {
		return err
	}
	evidenceDir, err := filepath.Abs(d.evidence)
	if err != nil {
		return err
	}
	caseID := evidence.NewCaseID(time.Now().UTC())
	global := []string{"firebreak", "--state-dir", filepath.Join(scratch, "state")}
	run := append(global, "run", "host-compromise", "-i", "instance_id="+instanceID,
		"--evidence", evidenceDir, "--case", caseID, "--yes", "--sign-key", key)
	if code := cli.Execute(ctx, run, d.stdin, d.stdout, d.stderr); code != 0 {
		return cli.ExitError(code, nil)
	}
	d.logf("\nverifying the evidence:")
	// --pub takes the private key file too (its public half is used).
	verify := append(global, "verify", filepath.Join(evidenceDir, caseID), "--pub", key)
	return cli.ExitError(cli.Execute(ctx, verify, d.stdin, d.stdout, d.stderr), nil)
}
