package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

func TestBuildHostCompromise(t *testing.T) {
	reg, pb, _ := hostCompromise(t)
	p, err := Build(context.Background(), reg, pb, hostInputs, false)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	wantWaves := [][]string{{"gather"}, {"isolate"}, {"memory", "disks"}, {"stop"}, {"log"}}
	if !reflect.DeepEqual(p.Waves, wantWaves) {
		t.Errorf("waves: got %v, want %v", p.Waves, wantWaves)
	}
	wantPath := []string{"gather", "isolate", "memory", "stop"}
	if !reflect.DeepEqual(p.CriticalPath, wantPath) {
		t.Errorf("critical path: got %v, want %v", p.CriticalPath, wantPath)
	}
	tests := []struct {
		id       string
		decision Decision
		wave     int
		reason   string
		calls    []string
	}{
		{"gather", DecisionRun, 0, "", []string{"ec2:DescribeInstances i-0abc1234"}},
		{"isolate", DecisionRun, 1, "", []string{"ec2:ModifyNetworkInterfaceAttribute", "ec2:CreateSecurityGroup"}},
		{"memory", DecisionRuntime, 2, `"steps.gather"`, []string{"ssh:exec"}},
		{"disks", DecisionRun, 2, "", []string{"ec2:CreateSnapshots"}},
		{"stop", DecisionSkip, 3, `inputs.terminate is false`, []string{}},
		{"log", DecisionRun, 4, "", []string{"s3:PutObject"}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			st, ok := p.Step(tt.id)
			if !ok {
				t.Fatalf("step %q missing from the plan", tt.id)
			}
			if st.Decision != tt.decision || st.Wave != tt.wave {
				t.Errorf("got decision %s wave %d, want %s wave %d (reason %q)", st.Decision, st.Wave, tt.decision, tt.wave, st.Reason)
			}
			if tt.reason == "" && st.Reason != "" || !strings.Contains(st.Reason, tt.reason) {
				t.Errorf("reason: got %q, want it to hold %q", st.Reason, tt.reason)
			}
			if !reflect.DeepEqual(st.Calls, tt.calls) {
				t.Errorf("calls: got %q, want %q", st.Calls, tt.calls)
			}
		})
	}
	if st, _ := p.Step("log"); !st.Finally {
		t.Errorf("log: got Finally false, want true")
	}
}

func TestPlannerInput(t *testing.T) {
	for _, check := range []bool{false, true} {
		reg, pb, meta := hostCompromise(t)
		mem := &planner{noRun: noRun{t: t, spec: engine.ActionSpec{Name: "memory2", Params: []engine.Param{
			{Name: "host", Type: engine.TypeString}, {Name: "port", Type: engine.TypeInt, Default: 22},
			{Name: "sudo", Type: engine.TypeBool},
		}}}}
		mem.answer = func(*engine.PlanInput) (*engine.PlanDetail, error) {
			return &engine.PlanDetail{Calls: []string{"ssh"}, Notes: []string{"n"}, Problems: []string{"p"}}, nil
		}
		reg.Register(mem)
		pb.Steps = append(pb.Steps, &engine.Step{ID: "mem2", Action: "memory2", Needs: []string{"gather"},
			With: with(t, map[string]any{"host": "${{ steps.gather.outputs.private_ip }}", "sudo": "true"})})
		graphed(t, pb)
		p, err := Build(context.Background(), reg, pb, hostInputs, check)
		if err != nil {
			t.Fatalf("Build: %v", err)
		}
		if len(meta.got) != 1 || meta.got[0].Check != check || meta.got[0].StepID != "gather" {
			t.Fatalf("check=%v: collect-metadata planner got %+v, want one call with Check %v", check, meta.got, check)
		}
		in := mem.got[0]
		want := engine.Params{"host": engine.Unknown{Expr: "steps.gather.outputs.private_ip"}, "port": 22, "sudo": true}
		if !reflect.DeepEqual(in.Params, want) {
			t.Errorf("params: got %#v, want %#v", in.Params, want)
		}
		st, _ := p.Step("mem2")
		if !reflect.DeepEqual(st.Notes, []string{"n"}) || !reflect.DeepEqual(st.Problems, []string{"p"}) {
			t.Errorf("notes/problems: got %q / %q, want [n] / [p]", st.Notes, st.Problems)
		}
		if got := p.Problems(); !reflect.DeepEqual(got, []string{"mem2: p"}) {
			t.Errorf("Problems(): got %q, want [mem2: p]", got)
		}
	}
}

func TestDecisions(t *testing.T) {
	tests := []struct {
		name     string
		when     string
		forEach  string
		inputs   map[string]any
		decision Decision
		items    int // -1: unknown
	}{
		{"no condition", "", "", nil, DecisionRun, -1},
		{"true from inputs", "inputs.go", "", map[string]any{"go": true}, DecisionRun, -1},
		{"false from inputs", "inputs.go", "", map[string]any{"go": false}, DecisionSkip, -1},
		{"only on failure", "failed()", "", nil, DecisionRuntime, -1},
		{"false even on failure", "inputs.go && failed()", "", map[string]any{"go": false}, DecisionSkip, -1},
		{"always", "always()", "", nil, DecisionRun, -1},
		{"status of a step", `steps.a.status == "succeeded"`, "", nil, DecisionRuntime, -1},
		{"per item", "item != 'x'", "inputs.ids", map[string]any{"ids": []any{"x"}}, DecisionRuntime, 1},
		{"fan out from inputs", "", "inputs.ids", map[string]any{"ids": []any{"a", "b", "c"}}, DecisionRun, 3},
		{"fan out over nothing", "", "inputs.ids", map[string]any{"ids": []any{}}, DecisionRun, 0},
		{"fan out from outputs", "", "steps.a.outputs.hosts", nil, DecisionRuntime, -1},
		{"skip beats fan out", "false", "steps.a.outputs.hosts", nil, DecisionSkip, -1},
		{"false input part of a step condition", `inputs.go && steps.a.status == "succeeded"`, "", map[string]any{"go": false}, DecisionSkip, -1},
		{"false input part on the right", `steps.a.outputs.x == 1 and inputs.go`, "", map[string]any{"go": false}, DecisionSkip, -1},
		{"true input part of a step condition", `inputs.go && steps.a.status == "succeeded"`, "", map[string]any{"go": true}, DecisionRuntime, -1},
		{"or is not split", `inputs.go || steps.a.outputs.x == 1`, "", map[string]any{"go": false}, DecisionRuntime, -1},
		{"failed() part is left to the run", `failed() && inputs.go`, "", map[string]any{"go": true}, DecisionRuntime, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := engine.NewRegistry()
			reg.Register(&noRun{t: t, spec: engine.ActionSpec{Name: "x", Calls: []string{"x:Do"}}})
			b := &engine.Step{ID: "b", Action: "x", Needs: []string{"a"}}
			if tt.when != "" {
				b.When = compileExpr(t, tt.when, engine.ExprBool)
			}
			if tt.forEach != "" {
				b.ForEach = compileExpr(t, tt.forEach, engine.ExprList)
			}
			pb := graphed(t, &engine.Playbook{Name: "d", Steps: []*engine.Step{{ID: "a", Action: "x"}, b}})
			p, err := Build(context.Background(), reg, pb, tt.inputs, false)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			st, _ := p.Step("b")
			if st.Decision != tt.decision {
				t.Errorf("decision: got %s (%s), want %s", st.Decision, st.Reason, tt.decision)
			}
			if st.Decision != DecisionRun && st.Reason == "" {
				t.Errorf("decision %s without a reason", st.Decision)
			}
			if got := -1; st.Items != nil {
				got = *st.Items
				if got != tt.items {
					t.Errorf("items: got %d, want %d", got, tt.items)
				}
			} else if tt.items != -1 {
				t.Errorf("items: got unknown, want %d", tt.items)
			}
		})
	}
}

func TestFanOutPlansEachItem(t *testing.T) {
	reg := engine.NewRegistry()
	pl := &planner{noRun: noRun{t: t, spec: engine.ActionSpec{Name: "tag", Params: []engine.Param{{Name: "id", Type: engine.TypeString}}}}}
	pl.answer = func(in *engine.PlanInput) (*engine.PlanDetail, error) {
		return &engine.PlanDetail{Calls: []string{"ec2:CreateTags " + in.Params.String("id")}}, nil
	}
	reg.Register(pl)
	pb := graphed(t, &engine.Playbook{Name: "f", Steps: []*engine.Step{{ID: "t", Action: "tag",
		ForEach: compileExpr(t, "inputs.ids", engine.ExprList),
		With:    with(t, map[string]any{"id": "${{ index }}:${{ item }}"})}}})
	p, err := Build(context.Background(), reg, pb, map[string]any{"ids": []any{"i-1", "i-2", "i-1"}}, false)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	want := []string{"ec2:CreateTags 0:i-1", "ec2:CreateTags 1:i-2", "ec2:CreateTags 2:i-1"}
	if st, _ := p.Step("t"); !reflect.DeepEqual(st.Calls, want) {
		t.Errorf("calls: got %q, want %q", st.Calls, want)
	}
}

func TestStepProblems(t *testing.T) {
	reg := engine.NewRegistry()
	failing := &planner{noRun: noRun{t: t, spec: engine.ActionSpec{Name: "deny"}}}
	failing.answer = func(*engine.PlanInput) (*engine.PlanDetail, error) { return nil, errors.New("access denied") }
	panicky := &planner{noRun: noRun{t: t, spec: engine.ActionSpec{Name: "boom"}}}
	panicky.answer = func(*engine.PlanInput) (*engine.PlanDetail, error) { panic("planner bug") }
	typed := &noRun{t: t, spec: engine.ActionSpec{Name: "typed", Params: []engine.Param{{Name: "n", Type: engine.TypeInt}}}}
	reg.Register(failing)
	reg.Register(panicky)
	reg.Register(typed)
	pb := graphed(t, &engine.Playbook{Name: "p", Steps: []*engine.Step{
		{ID: "a", Action: "deny"}, {ID: "b", Action: "boom"}, {ID: "c", Action: "nope"},
		{ID: "d", Action: "typed", With: with(t, map[string]any{"n": "${{ inputs.word }}"})},
	}})
	p, err := Build(context.Background(), reg, pb, map[string]any{"word": "many"}, true)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	for id, want := range map[string]string{"a": "planning: access denied", "b": "panicked: planner bug",
		"c": `unknown action "nope"`, "d": `parameter "n": want int, got string "many"`} {
		st, _ := p.Step(id)
		if len(st.Problems) != 1 || !strings.Contains(st.Problems[0], want) {
			t.Errorf("step %s problems: got %q, want one holding %q", id, st.Problems, want)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	reg := engine.NewRegistry()
	reg.Register(&noRun{t: t, spec: engine.ActionSpec{Name: "x"}})
	noGraph := &engine.Playbook{Name: "c", Steps: []*engine.Step{{ID: "a", Action: "x"}}}
	if _, err := Build(context.Background(), reg, noGraph, nil, false); err == nil || !strings.Contains(err.Error(), "call BuildGraphs") {
		t.Errorf("a playbook without its graph: got %v, want an error that says to call BuildGraphs", err)
	}
	if _, err := Build(context.Background(), reg, nil, nil, false); err == nil {
		t.Errorf("nil playbook: got no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ok := graphed(t, &engine.Playbook{Name: "o", Steps: []*engine.Step{{ID: "a", Action: "x"}}})
	if _, err := Build(ctx, reg, ok, nil, false); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v, want context.Canceled", err)
	}
}

func TestJSONShape(t *testing.T) {
	reg, pb, _ := hostCompromise(t)
	p, err := Build(context.Background(), reg, pb, hostInputs, false)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	var buf bytes.Buffer
	if err := p.JSON(&buf); err != nil {
		t.Fatalf("JSON: %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("plan JSON does not parse: %v\n%s", err, buf.String())
	}
	for _, k := range []string{"playbook", "inputs", "waves", "critical_path", "steps"} {
		if _, ok := got[k]; !ok {
			t.Errorf("key %q missing from %s", k, buf.String())
		}
	}
	pbRef := got["playbook"].(map[string]any)
	if pbRef["name"] != "host-compromise" || pbRef["version"] != "1.2.0" || pbRef["sha256"] != "0123456789abcdef0123" {
		t.Errorf("playbook: got %v", pbRef)
	}
	step := got["steps"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "action", "needs", "wave", "decision", "calls"} {
		if _, ok := step[k]; !ok {
			t.Errorf("step key %q missing from %v", k, step)
		}
	}
}

func TestWithFinding(t *testing.T) {
	reg := engine.NewRegistry()
	reg.Register(&noRun{t: t, spec: engine.ActionSpec{Name: "x"}})
	pb := graphed(t, &engine.Playbook{Name: "f", Steps: []*engine.Step{
		{ID: "ec2", Action: "x", When: compileExpr(t, `incident.instance_id != ""`, engine.ExprBool)}}})
	for _, tt := range []struct {
		name     string
		incident map[string]any
		want     Decision
	}{
		{"instance finding", map[string]any{"instance_id": "i-1"}, DecisionRun},
		{"key finding", map[string]any{"instance_id": ""}, DecisionSkip},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Build(context.Background(), reg, pb, nil, false, WithFinding(map[string]any{}, tt.incident))
			if err != nil {
				t.Fatal(err)
			}
			if st, _ := p.Step("ec2"); st.Decision != tt.want {
				t.Errorf("got %s (%s), want %s", st.Decision, st.Reason, tt.want)
			}
		})
	}
}

// TestJSONKeepsEmptyVersion: the plan's JSON names "version" and "sha256"
// even when empty (the manifest and journal leave them out), and does not
// escape < and > in strings.
func TestJSONKeepsEmptyVersion(t *testing.T) {
	reg, pb, _ := hostCompromise(t)
	bare := *pb
	bare.Version, bare.SHA256 = "", ""
	p, err := Build(context.Background(), reg, &bare, hostInputs, false)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	p.Steps[0].Notes = append(p.Steps[0].Notes, "<runtime: x>")
	var buf bytes.Buffer
	if err := p.JSON(&buf); err != nil {
		t.Fatalf("JSON: %v", err)
	}
	for _, want := range []string{`"version": ""`, `"sha256": ""`, `"<runtime: x>"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("plan JSON lacks %s:\n%s", want, buf.String())
		}
	}
	if first := strings.Index(buf.String(), `"playbook"`); first < 0 || first > 8 {
		t.Errorf("\"playbook\" is not the first key:\n%s", buf.String())
	}
}

// TestDeclinedApprovalNote: the plan says which steps a declined approval
// skips: those after it, directly or not, unless their when uses always()
// (which also shields the steps after them).
func TestDeclinedApprovalNote(t *testing.T) {
	reg := engine.NewRegistry()
	reg.Register(&noRun{t: t, spec: engine.ActionSpec{Name: "x"}})
	s := func(id string, needs ...string) *engine.Step { return &engine.Step{ID: id, Action: "x", Needs: needs} }
	kill, report := s("kill", "a"), s("report", "kill")
	kill.Approve = "kill?"
	report.When = compileExpr(t, "always()", engine.ExprBool)
	pb := graphed(t, &engine.Playbook{Name: "d", Steps: []*engine.Step{s("a"), kill, s("after", "kill"), s("later", "after"),
		report, s("after-report", "report")}})
	p, err := Build(context.Background(), reg, pb, nil, false)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	want := map[string]string{"a": "", "kill": "", "after": `skipped if the approval of "kill" is declined`,
		"later": `skipped if the approval of "kill" is declined`, "report": "", "after-report": ""}
	for id, note := range want {
		st, _ := p.Step(id)
		got := strings.Join(st.Notes, "; ")
		if got != note {
			t.Errorf("%s: notes %q, want %q", id, got, note)
		}
	}
}
