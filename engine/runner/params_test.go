package runner

import (
	"bytes"
	"context"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

var typedParams = []engine.Param{
	{Name: "n", Type: engine.TypeInt},
	{Name: "ids", Type: engine.TypeList},
	{Name: "msg", Type: engine.TypeString},
	{Name: "on", Type: engine.TypeBool},
	{Name: "mode", Type: engine.TypeString, Default: "stop", Enum: []string{"stop", "terminate"}},
	{Name: "wait", Type: engine.TypeDuration, Default: "90s"},
	{Name: "need", Type: engine.TypeString, Required: true},
}

// TestParams: whole values keep their type, interpolation formats, values
// are coerced to the declared types, defaults apply, bad values fail the
// step at once.
func TestParams(t *testing.T) {
	t.Parallel()
	inputs := map[string]any{"count": 3, "ids": []any{"i-1", "i-2"}, "text": "7", "flag": "true", "mode": "reboot"}
	tests := []struct {
		name    string
		with    map[string]any
		want    engine.Params
		wantErr string
	}{
		{"whole values keep type", map[string]any{"n": "${{ inputs.count }}", "ids": "${{ inputs.ids }}", "need": "x",
			"msg": "n=${{ inputs.count }} ids=${{ inputs.ids }} up=${{ steps.up.outputs.v }}"},
			engine.Params{"n": 3, "ids": []any{"i-1", "i-2"}, "need": "x", "msg": `n=3 ids=["i-1","i-2"] up=42`, "mode": "stop", "wait": 90e9}, ""},
		{"coerced", map[string]any{"n": "${{ inputs.text }}", "on": "${{ inputs.flag }}", "ids": "a, b", "need": "${{ steps.up.outputs.v }}"},
			engine.Params{"n": 7, "on": true, "ids": []any{"a", "b"}, "need": "42", "mode": "stop", "wait": 90e9}, ""},
		{"case, run, finding, incident", map[string]any{"need": "${{ case.id }} ${{ run.id }} ${{ run.playbook }} ${{ finding.type }} ${{ incident.instance_id }}"},
			engine.Params{"need": "cr-1 run-1 test Recon:EC2/PortProbeUnprotectedPort i-0abc", "mode": "stop", "wait": 90e9}, ""},
		{"null is not given", map[string]any{"mode": "${{ steps.up.outputs.missing }}", "need": "x"},
			engine.Params{"need": "x", "mode": "stop", "wait": 90e9}, ""},
		{"wrong type", map[string]any{"n": "${{ inputs.ids }}", "need": "x"}, nil, `step "s": parameter "n": want int, got list`},
		{"not in enum", map[string]any{"mode": "${{ inputs.mode }}", "need": "x"}, nil, `parameter "mode": string "reboot" is not one of`},
		{"missing required", map[string]any{}, nil, `step "s": parameter "need" is required but has no value`},
		{"unknown", map[string]any{"need": "x", "nope": 1}, nil, `action "typed" takes no parameter "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got engine.Params
			calls := 0
			act := &fnAction{spec: engine.ActionSpec{Name: "typed", Params: typedParams},
				run: func(_ context.Context, in *engine.StepInput) (engine.Outputs, error) {
					calls++
					got = in.Params
					return nil, nil
				}}
			up := &fnAction{spec: engine.ActionSpec{Name: "up"}, run: func(context.Context, *engine.StepInput) (engine.Outputs, error) {
				return engine.Outputs{"v": 42}, nil
			}}
			s := step("s", "typed", "up")
			s.With, s.Retries = with(t, tt.with), 3
			res, err := Run(context.Background(), Config{Registry: registry(act, up), Playbook: playbook(step("up", "up"), s), Inputs: inputs,
				RunID: "run-1", CaseID: "cr-1", Finding: map[string]any{"type": "Recon:EC2/PortProbeUnprotectedPort"}, Incident: map[string]any{"instance_id": "i-0abc"}})
			if err != nil {
				t.Fatal(err)
			}
			rec, _ := res.Step("s")
			if tt.wantErr != "" {
				if rec.Status != engine.StatusFailed || !strings.Contains(rec.Error, tt.wantErr) || calls != 0 {
					t.Errorf("got %s %q after %d calls, want failed with %q and no call", rec.Status, rec.Error, calls, tt.wantErr)
				}
				return
			}
			if w, ok := tt.want["wait"].(float64); ok {
				tt.want["wait"] = time.Duration(w)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("params:\n got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// TestSecretsNotLogged: a Secret param never reaches the log.
func TestSecretsNotLogged(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	act := &fnAction{spec: engine.ActionSpec{Name: "hook", Params: []engine.Param{{Name: "url", Type: engine.TypeString}, {Name: "token", Type: engine.TypeString, Secret: true}}},
		run: func(context.Context, *engine.StepInput) (engine.Outputs, error) { return nil, nil }}
	s := step("s", "hook")
	s.With = with(t, map[string]any{"url": "https://127.0.0.1/x", "token": "${{ inputs.token }}"})
	if _, err := Run(context.Background(), Config{Registry: registry(act), Playbook: playbook(s), Logger: log,
		Inputs: map[string]any{"token": "hunter2-secret"}}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "hunter2") {
		t.Errorf("the secret reached the log:\n%s", out)
	}
	for _, want := range []string{`"token":"[redacted]"`, `"url":"https://127.0.0.1/x"`, `"msg":"step started"`, `"msg":"step ended"`, `"duration":`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

// TestSecretParamErrorHidesValue: a secret that does not fit its type
// fails the step without quoting it.
func TestSecretParamErrorHidesValue(t *testing.T) {
	t.Parallel()
	act := &fnAction{spec: engine.ActionSpec{Name: "hook", Params: []engine.Param{{Name: "pin", Type: engine.TypeInt, Secret: true}}},
		run: func(context.Context, *engine.StepInput) (engine.Outputs, error) { return nil, nil }}
	s := step("s", "hook")
	s.With = with(t, map[string]any{"pin": "${{ inputs.pin }}"})
	res, err := Run(context.Background(), Config{Registry: registry(act), Playbook: playbook(s), Inputs: map[string]any{"pin": "hunter2"}})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := res.Step("s")
	if rec.Status != engine.StatusFailed || strings.Contains(rec.Error, "hunter2") || !strings.Contains(rec.Error, `secret parameter "pin"`) {
		t.Errorf("s = %s %q, want failed without the secret", rec.Status, rec.Error)
	}
}
