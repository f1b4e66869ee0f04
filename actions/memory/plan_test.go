package memory

import (
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

func TestPlan(t *testing.T) {
	a := New(Options{}).(engine.Planner)
	tests := []struct {
		name        string
		params      engine.Params
		check       bool
		wantCall    string
		wantNote    string
		wantProblem string
	}{
		{name: "lime on a runtime host", params: engine.Params{"host": engine.Unknown{Expr: "steps.gather.outputs.private_ip"}, "method": "lime", "module_dir": "/srv/lime", "sudo": true},
			wantCall: `sudo -n insmod <module> "path=tcp:<port> format=lime localhostonly=1"`},
		{name: "raw to s3", params: engine.Params{"host": "10.0.0.5", "method": "raw", "source": "/dev/crash", "sinks": []any{"s3://ev/p"}},
			wantCall: "write s3://ev/p"},
		{name: "insecure noted", params: engine.Params{"host": "h", "method": "raw", "source": "/dev/crash", "insecure_host_key": true},
			wantCall: "host key: not verified", wantNote: "NOT be verified"},
		{name: "check finds a missing module dir", params: engine.Params{"host": "h", "method": "lime", "module_dir": "/nonexistent/lime"}, check: true,
			wantCall: "uname -r", wantProblem: `module_dir "/nonexistent/lime" is not a directory`},
		{name: "check finds a bad parameter", params: engine.Params{"host": "h", "method": "raw"}, check: true,
			wantCall: "dd if=?", wantProblem: "method raw needs source"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := a.Plan(t.Context(), &engine.PlanInput{StepID: "memory", Params: tc.params, Check: tc.check})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range []struct {
				got  []string
				want string
			}{{d.Calls, tc.wantCall}, {d.Notes, tc.wantNote}, {d.Problems, tc.wantProblem}} {
				if w.want != "" && !strings.Contains(strings.Join(w.got, "\n"), w.want) {
					t.Errorf("got %q, want one containing %q", w.got, w.want)
				}
			}
			if tc.wantProblem == "" && len(d.Problems) > 0 {
				t.Errorf("problems %q, want none", d.Problems)
			}
		})
	}
}
