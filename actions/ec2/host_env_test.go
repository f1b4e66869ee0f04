package ec2

import (
	"context"
	"io"
	"sync"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsfixture"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// hostEvidence is an in-memory engine.Evidence for the host-compromise
// action tests: it keeps every artifact stored and every custody event.
type hostEvidence struct {
	mu     sync.Mutex
	puts   map[string][]byte
	kinds  map[string]string
	events []hostEvent
}

type hostEvent struct {
	name   string
	detail map[string]any
}

func (e *hostEvidence) Put(_ context.Context, m engine.ArtifactMeta, r io.Reader) (engine.Artifact, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return engine.Artifact{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.puts == nil {
		e.puts, e.kinds = map[string][]byte{}, map[string]string{}
	}
	e.puts[m.Name], e.kinds[m.Name] = b, m.Kind
	e.events = append(e.events, hostEvent{"put", map[string]any{"name": m.Name}})
	return engine.Artifact{ID: m.Name, Kind: m.Kind, Size: int64(len(b)), Complete: true}, nil
}

func (e *hostEvidence) Record(context.Context, engine.Artifact) error { return nil }

func (e *hostEvidence) Event(_ context.Context, name string, d map[string]any) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, hostEvent{name, d})
	return nil
}

// eventsNamed returns the details of the events called name.
func (e *hostEvidence) eventsNamed(name string) []map[string]any {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []map[string]any
	for _, ev := range e.events {
		if ev.name == name {
			out = append(out, ev.detail)
		}
	}
	return out
}

// hostWorld is a moto server holding the awsfixture world, with the action
// clients and the fixture's clients (for asserting state) over it.
type hostWorld struct {
	moto    *testenv.Moto
	w       *awsfixture.World
	clients *awsapi.Clients
	check   *awsfixture.Clients
}

func newHostWorld(t *testing.T) *hostWorld {
	t.Helper()
	m := testenv.StartMoto(t)
	w, err := awsfixture.Build(testenv.Context(t), m.Config())
	if err != nil {
		t.Fatalf("building the fixture world: %v", err)
	}
	return &hostWorld{moto: m, w: w, clients: awsapi.NewClients(m.Config()), check: awsfixture.NewClients(m.Config())}
}

// hostRun runs a on a fresh step input and returns its outputs, the
// evidence it wrote and its error.
func hostRun(ctx context.Context, a engine.Action, caseID, step string, params engine.Params) (engine.Outputs, *hostEvidence, error) {
	ev := &hostEvidence{}
	in := &engine.StepInput{RunID: "run-test", CaseID: caseID, StepID: step, Params: params, Attempt: 1, Evidence: ev}
	out, err := a.Run(ctx, in)
	return out, ev, err
}
