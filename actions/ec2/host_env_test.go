package ec2

import (
	"context"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/enginetest"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsfixture"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

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
func hostRun(ctx context.Context, a engine.Action, caseID, step string, params engine.Params) (engine.Outputs, *enginetest.Evidence, error) {
	ev := enginetest.NewEvidence()
	in := &engine.StepInput{RunID: "run-test", CaseID: caseID, StepID: step, Params: params, Attempt: 1, Evidence: ev}
	out, err := a.Run(ctx, in)
	return out, ev, err
}
