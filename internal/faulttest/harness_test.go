package faulttest

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/actions/all"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/engine/runner"
	"github.com/firebreak-ir/firebreak/engine/session"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsfixture"
	"github.com/firebreak-ir/firebreak/internal/faultproxy"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// env is one moto_server with a fault proxy in front of it. direct reaches
// moto itself (to build worlds and check them); proxied is the
// configuration firebreak itself would load (adaptive retries) aimed at
// the proxy.
type env struct {
	moto    *testenv.Moto
	proxy   *faultproxy.Proxy
	direct  aws.Config
	proxied aws.Config
	check   *awsfixture.Clients
}

func newEnv(t *testing.T, seed uint64, rules ...faultproxy.Rule) *env {
	t.Helper()
	m := testenv.StartMoto(t)
	p, err := faultproxy.Start(m.URL, seed, rules...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	cfg, err := awsapi.LoadConfig(testenv.Context(t), awsapi.Options{Endpoint: p.URL, Region: m.Region})
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	return &env{moto: m, proxy: p, direct: m.Config(), proxied: cfg, check: awsfixture.NewClients(m.Config())}
}

// world builds a compromised-instance world straight on moto.
func (e *env) world(t testing.TB) *awsfixture.World {
	t.Helper()
	w, err := awsfixture.Build(testenv.Context(t), e.direct)
	if err != nil {
		t.Fatalf("awsfixture.Build: %v", err)
	}
	return w
}

// registry holds every action, wired to cfg as the CLI wires them.
func registry(cfg aws.Config) *engine.Registry {
	return all.Registry(awsapi.NewClients(cfg), all.Options{})
}

// inProcess is one run of host-compromise through the session, in process.
type inProcess struct {
	store  *evidence.DirStore
	caseID string
	res    *runner.Result
	man    *evidence.Manifest
}

// runHost runs host-compromise on w with the SDK aimed at cfg.
func runHost(t *testing.T, cfg aws.Config, w *awsfixture.World) *inProcess {
	t.Helper()
	ctx := testenv.Context(t)
	reg := registry(cfg)
	pb, err := (&loader.Loader{Registry: reg}).LoadFile("../../playbooks/host-compromise.yaml")
	if err != nil {
		t.Fatalf("loading host-compromise:\n%v", err)
	}
	inputs, err := loader.ResolveInputs(pb, map[string]any{"instance_id": w.InstanceID}, nil)
	if err != nil {
		t.Fatalf("ResolveInputs: %v", err)
	}
	store, err := evidence.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := &session.Manager{Backend: &session.Local{Registry: reg, StateDir: t.TempDir()}}
	run, err := m.Start(ctx, &session.Request{Playbook: pb, Inputs: inputs, Store: store})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	out := run.Wait()
	r := &inProcess{store: store, caseID: out.CaseID, res: out.Result, man: out.Manifest}
	if r.res == nil {
		t.Fatalf("run: %v", out.Err)
	}
	for _, s := range r.res.Steps {
		t.Logf("step %s: %s attempts %d %s %s", s.ID, s.Status, s.Attempts, s.Error, s.SkipReason)
	}
	if r.man == nil {
		t.Fatalf("the case was not sealed: %v", out.Err)
	}
	return r
}

func (r *inProcess) makespan() time.Duration {
	return r.res.FinishedAt.Sub(r.res.StartedAt).Round(time.Millisecond)
}

// seedsFor returns the seeds a fault test runs: n by default, or
// FIREBREAK_FAULT_SEEDS of them (more seeds, more of the state space).
func seedsFor(t *testing.T, n int) []uint64 {
	t.Helper()
	if v := os.Getenv("FIREBREAK_FAULT_SEEDS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("FIREBREAK_FAULT_SEEDS=%q: want a count of seeds", v)
		}
	}
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	return seeds
}

// verify fails the test unless the case verifies.
func verify(t *testing.T, store evidence.Store, caseID string) *evidence.Report {
	t.Helper()
	rep, err := evidence.Verify(testenv.Context(t), store, caseID, nil)
	if err != nil {
		t.Fatalf("Verify %s: %v", caseID, err)
	}
	if !rep.OK() {
		t.Errorf("Verify %s: problems %v", caseID, rep.Problems)
	}
	return rep
}

// baseline runs host-compromise fault-free on a new world of e and returns
// its end state, the one every faulty or interrupted run must reach.
func (e *env) baseline(t *testing.T) endState {
	t.Helper()
	e.proxy.SetRules()
	w := e.world(t)
	r := runHost(t, e.proxied, w)
	if r.res.Status != engine.RunSucceeded {
		t.Fatalf("fault-free run: got %s, want succeeded", r.res.Status)
	}
	s := readState(t, testenv.Context(t), e.check, w, r.caseID)
	wantContained(t, s)
	return s
}

// wantEndState fails the test unless world w, worked on in case caseID,
// is in state want.
func (e *env) wantEndState(t *testing.T, w *awsfixture.World, caseID string, want endState) {
	t.Helper()
	got := readState(t, testenv.Context(t), e.check, w, caseID)
	wantContained(t, got)
	if !got.equal(want) {
		t.Errorf("end state differs from an uninterrupted run's\ngot:\n%v\nwant:\n%v", got, want)
	}
}
