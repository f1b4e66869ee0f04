package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/session"
	"github.com/firebreak-ir/firebreak/internal/temporalrun"
)

// temporalConf is where runs go when they run on Temporal: the flags of
// run, resume, runs, approve, worker and serve. An empty Addr: runs are local.
type temporalConf struct {
	addr, namespace, queue  string
	tls                     bool
	cert, key, ca, serverNm string
	apiKey                  string
	heartbeat               time.Duration
}

// temporalCommands are the commands that take the Temporal flags.
var temporalCommands = map[string]bool{"run": true, "resume": true, "runs": true, "approve": true, "worker": true, "serve": true}

func temporalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "temporal", Usage: "run on the Temporal cluster at `HOST:PORT` (workers: firebreak worker)", EnvVars: []string{"FIREBREAK_TEMPORAL"}},
		&cli.StringFlag{Name: "namespace", Usage: "Temporal `NAMESPACE`", Value: "default", EnvVars: []string{"FIREBREAK_TEMPORAL_NAMESPACE"}},
		&cli.StringFlag{Name: "task-queue", Usage: "Temporal task `QUEUE` the workers poll", Value: temporalrun.DefaultTaskQueue, EnvVars: []string{"FIREBREAK_TEMPORAL_TASK_QUEUE"}},
		&cli.BoolFlag{Name: "temporal-tls", Usage: "connect to Temporal over TLS (implied by the other --temporal-tls-* flags and an API key)", EnvVars: []string{"FIREBREAK_TEMPORAL_TLS"}},
		&cli.StringFlag{Name: "temporal-tls-cert", Usage: "client certificate `FILE` (PEM) for mTLS", EnvVars: []string{"FIREBREAK_TEMPORAL_TLS_CERT"}},
		&cli.StringFlag{Name: "temporal-tls-key", Usage: "client key `FILE` (PEM) for mTLS", EnvVars: []string{"FIREBREAK_TEMPORAL_TLS_KEY"}},
		&cli.StringFlag{Name: "temporal-tls-ca", Usage: "CA `FILE` (PEM) the server's certificate must chain to (default: the system's)", EnvVars: []string{"FIREBREAK_TEMPORAL_TLS_CA"}},
		&cli.StringFlag{Name: "temporal-tls-server-name", Usage: "the server `NAME` its certificate must carry", EnvVars: []string{"FIREBREAK_TEMPORAL_TLS_SERVER_NAME"}},
		&cli.DurationFlag{Name: "temporal-heartbeat", Value: temporalrun.DefaultHeartbeat, EnvVars: []string{"FIREBREAK_TEMPORAL_HEARTBEAT"},
			Usage: "a worker silent this `LONG` is taken as lost and its step runs again on another (a run's starter sets it)"},
		&cli.StringFlag{Name: "temporal-api-key-file", Usage: "read the Temporal Cloud API key from `FILE` (or set FIREBREAK_TEMPORAL_API_KEY)"},
	}
}

// withTemporal gives the Temporal commands their flags, read before the
// command runs.
func withTemporal(st *cliState, cmds []*cli.Command) {
	for _, c := range cmds {
		if !temporalCommands[c.Name] {
			continue
		}
		c.Flags = append(c.Flags, temporalFlags()...)
		before := c.Before
		c.Before = func(ctx *cli.Context) error {
			if err := st.loadTemporal(ctx); err != nil {
				return err
			}
			if before != nil {
				return before(ctx)
			}
			return nil
		}
	}
}

func (st *cliState) loadTemporal(c *cli.Context) error {
	t := temporalConf{addr: c.String("temporal"), namespace: c.String("namespace"), queue: c.String("task-queue"),
		tls: c.Bool("temporal-tls"), cert: c.String("temporal-tls-cert"), key: c.String("temporal-tls-key"),
		ca: c.String("temporal-tls-ca"), serverNm: c.String("temporal-tls-server-name"), apiKey: os.Getenv("FIREBREAK_TEMPORAL_API_KEY"),
		heartbeat: c.Duration("temporal-heartbeat")}
	if t.heartbeat < time.Second {
		return usageErrorf("--temporal-heartbeat %s: want at least 1s", t.heartbeat)
	}
	if f := c.String("temporal-api-key-file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return usageErrorf("--temporal-api-key-file: %v", err)
		}
		t.apiKey = strings.TrimSpace(string(b))
	}
	if (t.cert == "") != (t.key == "") {
		return usageErrorf("--temporal-tls-cert and --temporal-tls-key go together")
	}
	if t.addr == "" && (t.cert != "" || t.ca != "" || t.apiKey != "" || t.tls) {
		return usageErrorf("the Temporal TLS and API key settings need --temporal HOST:PORT (or FIREBREAK_TEMPORAL)")
	}
	st.temporal = t
	return nil
}

// temporalClient connects to the cluster the flags name.
func (st *cliState) temporalClient(ctx context.Context) (client.Client, error) {
	t := st.temporal
	opts := client.Options{HostPort: t.addr, Namespace: t.namespace,
		Logger: tlog.NewStructuredLogger(st.loggerAt(slog.LevelWarn))}
	if t.tls || t.cert != "" || t.ca != "" || t.apiKey != "" || t.serverNm != "" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.serverNm}
		if t.cert != "" {
			pair, err := tls.LoadX509KeyPair(t.cert, t.key)
			if err != nil {
				return nil, usageErrorf("--temporal-tls-cert/--temporal-tls-key: %v", err)
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
		if t.ca != "" {
			pem, err := os.ReadFile(t.ca)
			if err != nil {
				return nil, usageErrorf("--temporal-tls-ca: %v", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, usageErrorf("--temporal-tls-ca %s: no PEM certificate in it", t.ca)
			}
			cfg.RootCAs = pool
		}
		opts.ConnectionOptions.TLS = cfg
	}
	if t.apiKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(t.apiKey)
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, withCode(exitUsage, fmt.Errorf("connecting to Temporal at %s (namespace %s): %w", t.addr, t.namespace, err))
	}
	return c, nil
}

// backend is where runs run: Temporal when --temporal names a cluster,
// else this process (the state dir keeps the journals). The console's
// serve takes its runs' backend from here too.
func (st *cliState) backend(ctx context.Context, reg *engine.Registry) (session.Backend, func(), error) {
	if st.temporal.addr == "" {
		return &session.Local{Registry: reg, StateDir: st.stateDir}, func() {}, nil
	}
	c, err := st.temporalClient(ctx)
	if err != nil {
		return nil, nil, err
	}
	ver, _ := buildVersion()
	return &temporalrun.Backend{Client: c, TaskQueue: st.temporal.queue, Tool: "firebreak " + ver,
		Heartbeat: st.temporal.heartbeat}, c.Close, nil
}

func workerCommand(st *cliState) *cli.Command {
	return &cli.Command{
		Name:  "worker",
		Usage: "run the steps of runs started with --temporal: serve the run workflow and its step activities on a task queue until stopped",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "max-concurrent", Usage: "run at most `N` steps at once in this worker (0: Temporal's default)"},
		},
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 0, 0, "--temporal HOST:PORT [--namespace NS] [--task-queue Q] [--max-concurrent N]"); err != nil {
				return err
			}
			if st.temporal.addr == "" {
				return usageErrorf("worker needs --temporal HOST:PORT (or FIREBREAK_TEMPORAL)")
			}
			if c.Int("max-concurrent") < 0 {
				return usageErrorf("--max-concurrent %d: want 0 or more", c.Int("max-concurrent"))
			}
			ctx := c.Context
			tc, err := st.temporalClient(ctx)
			if err != nil {
				return err
			}
			defer tc.Close()
			host, _ := os.Hostname()
			acts := &temporalrun.Activities{Registry: st.registry(ctx, true), OpenStore: st.openStore,
				Logger: st.runnerLogger(), Identity: fmt.Sprintf("%s/%d", host, os.Getpid())}
			w := temporalrun.NewWorker(tc, acts, temporalrun.WorkerOptions{TaskQueue: st.temporal.queue, MaxConcurrent: c.Int("max-concurrent")})
			stop := make(chan any)
			sigs := make(chan os.Signal, 1)
			signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
			defer signal.Stop(sigs)
			go func() {
				select {
				case <-sigs:
				case <-ctx.Done():
				}
				close(stop)
			}()
			st.logf("worker %s serving task queue %q of namespace %q at %s", acts.Identity, st.temporal.queue, st.temporal.namespace, st.temporal.addr)
			if err := w.Run(stop); err != nil {
				return fmt.Errorf("worker: %w", err)
			}
			st.logf("worker stopped")
			return nil
		},
	}
}

func approveCommand(st *cliState) *cli.Command {
	return &cli.Command{
		Name:      "approve",
		Usage:     "answer an approve step of a run on Temporal that waits for it (yes; --decline: no)",
		ArgsUsage: "RUN_ID STEP",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "decline", Usage: "answer no: the step and what depends on it are skipped"},
		},
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 2, 2, "RUN_ID STEP [--decline]"); err != nil {
				return err
			}
			if st.temporal.addr == "" {
				return usageErrorf("approve answers runs on Temporal: give --temporal HOST:PORT (or FIREBREAK_TEMPORAL); a local run asks on its terminal, or resume it with --yes")
			}
			runID, step := c.Args().Get(0), c.Args().Get(1)
			tc, err := st.temporalClient(c.Context)
			if err != nil {
				return err
			}
			defer tc.Close()
			_, who := st.operator(c.Context, false)
			b := &temporalrun.Backend{Client: tc, TaskQueue: st.temporal.queue}
			if err := b.Approve(c.Context, runID, step, !c.Bool("decline"), who); err != nil {
				return withCode(exitUsage, err)
			}
			answer := "approved"
			if c.Bool("decline") {
				answer = "declined"
			}
			st.logf("run %s: step %q %s", runID, step, answer)
			return nil
		},
	}
}
