package plan

import (
	"context"
	"fmt"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

// benchPlaybook is n steps, each needing the one before and reading its
// output, half of them behind a condition on the inputs: the shape of a
// long response playbook.
func benchPlaybook(b *testing.B, n int) (*engine.Registry, *engine.Playbook) {
	reg := engine.NewRegistry()
	pl := &planner{noRun: noRun{spec: engine.ActionSpec{Name: "x", Params: []engine.Param{
		{Name: "id", Type: engine.TypeString}, {Name: "prev", Type: engine.TypeString}}}}}
	pl.answer = func(in *engine.PlanInput) (*engine.PlanDetail, error) {
		return &engine.PlanDetail{Calls: []string{"svc:Op " + in.Params.String("id")}}, nil
	}
	reg.Register(pl)
	when, err := engine.CompileExpr("inputs.go", engine.ExprBool)
	if err != nil {
		b.Fatal(err)
	}
	pb := &engine.Playbook{Name: "bench"}
	for i := range n {
		with := map[string]any{"id": "${{ inputs.id }}"}
		s := &engine.Step{ID: fmt.Sprintf("s%d", i), Action: "x"}
		if i > 0 {
			s.Needs = []string{fmt.Sprintf("s%d", i-1)}
			with["prev"] = fmt.Sprintf("${{ steps.s%d.outputs.x }}", i-1)
		}
		if i%2 == 1 {
			s.When = when
		}
		for k, v := range with {
			c, err := engine.CompileValue(v)
			if err != nil {
				b.Fatal(err)
			}
			if s.With == nil {
				s.With = map[string]engine.Value{}
			}
			s.With[k] = c
		}
		pb.Steps = append(pb.Steps, s)
	}
	return reg, graphed(b, pb)
}

// BenchmarkBuild reports ns/step for 100 and 1,000 steps: equal figures
// mean planning grows linearly with the playbook.
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("steps=%d", n), func(b *testing.B) {
			reg, pb := benchPlaybook(b, n)
			inputs := map[string]any{"go": true, "id": "i-1"}
			b.ResetTimer()
			for b.Loop() {
				if _, err := Build(context.Background(), reg, pb, inputs, false); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/step")
		})
	}
}
