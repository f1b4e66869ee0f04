// Package awstest runs AWS actions in tests against a real moto_server,
// through the fault proxy's recording, so a test can read the state back
// through the SDK and count the mutating calls an action made: a rerun of
// an idempotent action, a plan or a dry run must make none.
package awstest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/enginetest"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/faultproxy"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// Env is a moto_server with a recording proxy in front of it.
type Env struct {
	Moto *testenv.Moto
	// Proxy records every call the actions make.
	Proxy *faultproxy.Proxy
	// Direct reaches moto itself: set up and read back through it, so
	// the recording holds only what the actions did.
	Direct aws.Config
	// Clients are the actions' clients, aimed at the proxy.
	Clients *awsapi.Clients
}

// Start starts moto and the proxy for one test (not parallel: it sets the
// environment, as testenv.StartMoto does).
func Start(t *testing.T) *Env {
	t.Helper()
	m := testenv.StartMoto(t)
	p, err := faultproxy.Start(m.URL, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	cfg := m.Config()
	cfg.BaseEndpoint = aws.String(p.URL)
	return &Env{Moto: m, Proxy: p, Direct: m.Config(), Clients: awsapi.NewClients(cfg)}
}

// Run is one step of action name with params, in case "cr-test": its
// outputs, its evidence and its error. The proxy's recording is reset
// first, so Mutations afterwards counts this step's changes.
func (e *Env) Run(t *testing.T, reg *engine.Registry, name string, params engine.Params) (engine.Outputs, *enginetest.Evidence, error) {
	t.Helper()
	a, ok := reg.Lookup(name)
	if !ok {
		t.Fatalf("action %q is not registered", name)
	}
	ev := enginetest.NewEvidence()
	e.Proxy.Reset()
	out, err := a.Run(testenv.Context(t), &engine.StepInput{RunID: "run-test", CaseID: "cr-test", StepID: name, Attempt: 1,
		Params: params, Evidence: ev})
	return out, ev, err
}

// Plan is action name's plan with Check (reads the live account), the
// recording reset first.
func (e *Env) Plan(t *testing.T, reg *engine.Registry, name string, params engine.Params) *engine.PlanDetail {
	t.Helper()
	a, _ := reg.Lookup(name)
	pl, ok := a.(engine.Planner)
	if !ok {
		t.Fatalf("action %q has no Plan", name)
	}
	e.Proxy.Reset()
	d, err := pl.Plan(testenv.Context(t), &engine.PlanInput{StepID: name, Params: params, Check: true})
	if err != nil {
		t.Fatalf("%s Plan: %v", name, err)
	}
	return d
}

// Mutations are the mutating calls the backend saw since the last Run or
// Plan, as "service:Operation".
func (e *Env) Mutations() []string {
	var out []string
	for _, c := range e.Proxy.Calls() {
		if c.Mutating && c.Forwarded && !c.DryRun {
			out = append(out, c.Service+":"+c.Operation)
		}
	}
	return out
}

// Reads counts the calls since the last Run or Plan that changed nothing.
func (e *Env) Reads() int {
	n := 0
	for _, c := range e.Proxy.Calls() {
		if !c.Mutating {
			n++
		}
	}
	return n
}

// Changes are the aws-change custody events an action recorded, by call.
func Changes(ev *enginetest.Evidence) []string {
	var out []string
	for _, e := range ev.Events() {
		if e.Name == awsapi.EventChange {
			c, _ := e.Detail["call"].(string)
			out = append(out, c)
		}
	}
	return out
}

// Ctx is a context for set-up calls, cancelled when the test ends.
func Ctx(t *testing.T) context.Context { return testenv.Context(t) }
