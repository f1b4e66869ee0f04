package cli

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/urfave/cli/v2"

	"github.com/firebreak-ir/firebreak/assess"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/plan"
	"github.com/firebreak-ir/firebreak/internal/console"
)

func serveCommand(st *cliState) *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "the responder's console in a browser, and its JSON API (runs, approvals, inventory, finding intake)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:8700", Usage: "listen on `HOST:PORT` (off loopback only with --tls-cert and --tls-key)"},
			&cli.StringFlag{Name: "tls-cert", Usage: "serve HTTPS with the certificate in `FILE` (PEM)"},
			&cli.StringFlag{Name: "tls-key", Usage: "the private key of --tls-cert, in `FILE` (PEM)"},
			&cli.StringFlag{Name: "token-file", Usage: "read the tokens from `FILE` (lines `responder TOKEN` and `viewer TOKEN`) instead of making random ones"},
			&cli.StringFlag{Name: "evidence", Value: "./evidence", Usage: "evidence store of the runs started here: a `DIR` or s3://BUCKET/PREFIX"},
			&cli.StringFlag{Name: "sign-key", Usage: "sign the manifests of runs started here with the ed25519 private key in `FILE`"},
			&cli.BoolFlag{Name: "auto", Usage: "a finding starts at once the playbooks that answer it and say auto: true (without it, every one waits for a responder's click)"},
			&cli.StringFlag{Name: "intake-secret-file", Usage: "accept POST /api/findings signed with HMAC-SHA256 of the body under the secret in `FILE` (header X-Firebreak-Signature: sha256=HEX)"},
			&cli.StringFlag{Name: "sqs-queue", Usage: "take findings from the SQS queue at `URL` (long-polled; a message is deleted once its findings are recorded)"},
			&cli.StringSliceFlag{Name: "regions", Usage: "the inventory reads these `REGIONS` (comma-separated; default: every region ec2:DescribeRegions gives)"},
			&cli.Float64Flag{Name: "capture-rate", Value: console.DefaultCaptureMiBps, Usage: "`MiB/s` a memory capture reaches, for the inventory's capture time estimate (firebreak-lab bench --only memory measures it)"},
		},
		Action: st.serveAction,
	}
}

func (st *cliState) serveAction(c *cli.Context) error {
	if err := needArgs(c, 0, 0, "[--addr HOST:PORT] [--tls-cert FILE --tls-key FILE] [--token-file FILE] [--evidence DIR|s3://...]"); err != nil {
		return err
	}
	cert, key := c.String("tls-cert"), c.String("tls-key")
	if (cert == "") != (key == "") {
		return usageErrorf("--tls-cert and --tls-key go together")
	}
	addr := c.String("addr")
	if err := console.CheckListen(addr, cert != ""); err != nil {
		return usageErrorf("%v", err)
	}
	tokens, fromFile := console.NewTokens(), c.String("token-file")
	if fromFile != "" {
		var err error
		if tokens, err = console.ReadTokens(fromFile); err != nil {
			return usageErrorf("--token-file: %v", err)
		}
	}
	loc, err := evidenceLocation(c.String("evidence"))
	if err != nil {
		return err
	}
	signer, err := loadSigner(c.String("sign-key"))
	if err != nil {
		return withCode(exitUsage, err)
	}
	signKey := c.String("sign-key")
	if signKey != "" {
		signKey, _ = filepath.Abs(signKey)
	}
	ctx := c.Context
	if c.Float64("capture-rate") <= 0 {
		return usageErrorf("--capture-rate %v: want MiB/s above 0", c.Float64("capture-rate"))
	}
	var regions []string
	for _, r := range c.StringSlice("regions") {
		regions = append(regions, strings.Split(r, ",")...)
	}
	var secret []byte
	if f := c.String("intake-secret-file"); f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			return usageErrorf("--intake-secret-file: %v", err)
		}
		if secret = bytes.TrimSpace(data); len(secret) < 16 {
			return usageErrorf("--intake-secret-file %s: the secret is shorter than 16 bytes", f)
		}
	}
	reg := st.registry(ctx, true)
	op, _ := st.operator(ctx, false)
	clients := st.awsClients(ctx)
	queue := c.String("sqs-queue")
	if queue != "" && st.aws.err != nil {
		return usageErrorf("--sqs-queue needs AWS: %v", st.aws.err)
	}
	var ec2For func(string) console.EC2
	if st.aws.err == nil {
		ec2For = func(region string) console.EC2 { return clients.EC2(region) }
	}
	sessions, closeS, err := st.sessions(ctx, reg) // on Temporal with --temporal
	if err != nil {
		return err
	}
	defer closeS()
	srv, err := console.New(ctx, console.Config{
		Tokens: tokens, Secure: cert != "",
		Sessions: sessions, Catalog: st.catalog(reg),
		Evidence: loc, SignKey: signKey, Signer: signer,
		OpenStore: st.openStore, StateDir: st.stateDir,
		Operator: func(context.Context) evidence.Operator { return op },
		Logger:   st.logger(),
		Registry: reg, EC2: ec2For, Regions: regions, HomeRegion: clients.Region(""),
		CaptureMiBps: c.Float64("capture-rate"),
		Auto:         c.Bool("auto"), IntakeSecret: secret,
		Assess: func(ctx context.Context) (*assess.Report, error) {
			if st.aws.err != nil {
				return nil, st.aws.err
			}
			return assess.Run(ctx, assess.Options{Clients: clients, Regions: regions})
		},
		PlanOptions: func(ctx context.Context) []plan.Option {
			return []plan.Option{plan.WithLogger(st.logger()), plan.WithPermissionChecker(st.permissionChecker(ctx))}
		},
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return usageErrorf("--addr %q: %v", addr, err)
	}
	scheme := "http"
	if cert != "" {
		scheme = "https"
	}
	fmt.Fprintf(st.stdout, "console: %s://%s/\n", scheme, ln.Addr())
	if fromFile != "" {
		fmt.Fprintf(st.stdout, "token: the responder token of %s\n", fromFile)
	} else {
		fmt.Fprintf(st.stdout, "token: %s\n", tokens.Responder)
		fmt.Fprintf(st.stdout, "viewer token: %s\n", tokens.Viewer)
	}
	if queue != "" {
		fmt.Fprintf(st.stdout, "findings queue: %s\n", queue)
		go srv.PollSQS(ctx, sqs.NewFromConfig(clients.Config()), queue, 20*time.Second)
	}
	err = srv.Serve(ctx, ln, cert, key)
	srv.Wait() // runs started here are interrupted and sealed before the exit
	return err
}
