package local

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

func TestCommandPlan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		params    engine.Params
		check     bool
		wantCalls []string
		wantNotes []string
		wantProb  string
	}{
		{name: "plain", params: engine.Params{"argv": argv("uname", "-a")}, wantCalls: []string{"exec uname -a"}},
		{name: "quoted", params: engine.Params{"argv": argv("grep", "-r", "a b;c", "/var/log")}, wantCalls: []string{`exec grep -r "a b;c" /var/log`}},
		{name: "unknown arg", params: engine.Params{"argv": []any{"ping", engine.Unknown{Expr: "steps.gather.outputs.private_ip"}}},
			wantCalls: []string{"exec ping <runtime: steps.gather.outputs.private_ip>"}},
		{name: "env names only", params: engine.Params{"argv": argv("true"), "env": map[string]any{"TOKEN": "s3cret", "A": "b"}},
			wantCalls: []string{"exec true"}, wantNotes: []string{"env sets A, TOKEN"}},
		{name: "check finds missing program", params: engine.Params{"argv": argv("firebreak-no-such-tool")}, check: true,
			wantCalls: []string{"exec firebreak-no-such-tool"}, wantProb: `program not found: "firebreak-no-such-tool"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := (&command{}).Plan(context.Background(), &engine.PlanInput{StepID: "s", Params: tt.params, Check: tt.check})
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if !reflect.DeepEqual(d.Calls, tt.wantCalls) || !reflect.DeepEqual(d.Notes, tt.wantNotes) {
				t.Errorf("Plan: got calls %q notes %q, want %q %q", d.Calls, d.Notes, tt.wantCalls, tt.wantNotes)
			}
			if (tt.wantProb == "") != (len(d.Problems) == 0) || (tt.wantProb != "" && !strings.HasPrefix(d.Problems[0], tt.wantProb)) {
				t.Errorf("Plan problems: got %q, want %q", d.Problems, tt.wantProb)
			}
		})
	}
}

func TestRegister(t *testing.T) {
	r := engine.NewRegistry()
	Register(r)
	if got := r.Names(); !reflect.DeepEqual(got, []string{"command"}) {
		t.Fatalf("Names: got %v, want [command]", got)
	}
	// Tokens travel in env and stdin: they must stay out of logs.
	for _, name := range []string{"env", "stdin"} {
		if p, _ := (&command{}).Spec().Param(name); !p.Secret {
			t.Errorf("%s: not marked Secret", name)
		}
	}
}
