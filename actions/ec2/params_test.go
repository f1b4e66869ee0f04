package ec2

import (
	"context"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestBadParamsChangeNothing: a parameter the declaration or the action
// refuses fails the step before any AWS call. The actions have no clients
// here, so a call would panic.
func TestBadParamsChangeNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		act    engine.Action
		params engine.Params
		want   string
	}{
		{"snapshot wait_timeout zero", &snapshot{}, engine.Params{"instance_id": "i-1", "wait_timeout": "0s"},
			`snapshot: wait_timeout 0s is not positive: give a duration such as "2h"`},
		{"terminate mode", &terminate{}, engine.Params{"instance_id": "i-1", "mode": "reboot"},
			`terminate: parameter "mode": string "reboot" is not one of "stop", "terminate"`},
		{"terminate wait_timeout negative", &terminate{}, engine.Params{"instance_id": "i-1", "wait_timeout": "-1m"},
			`terminate: wait_timeout -1m0s is not positive: give a duration such as "15m"`},
		{"isolate without instance", &isolate{}, engine.Params{"nacl": "yes"},
			"isolate: parameter \"instance_id\" is required but has no value\nparameter \"nacl\": want bool, got string \"yes\" (no isolation change was made)"},
		{"release previous_state not a map", &release{}, engine.Params{"instance_id": "i-1", "previous_state": "x"},
			`release: parameter "previous_state": want map, got string "x" (nothing was changed)`},
		{"workstation wait_timeout zero", &workstation{}, engine.Params{"ami_id": "ami-1", "examiner_cidr": "198.51.100.7/32", "wait_timeout": "0s"},
			`create-workstation: wait_timeout 0s is not positive: give a duration such as "15m"`},
		{"tag misspelt", &tag{}, engine.Params{"tags": map[string]any{"a": "b"}, "instanceid": "i-1"},
			`tag: unknown parameter "instanceid": the parameters are tags, instance_id, resource_ids, region`},
		{"find-instance concurrency", &findInstance{}, engine.Params{"target": "i-1", "concurrency": "many"},
			`find-instance: parameter "concurrency": want int, got string "many"`},
		{"collect-metadata region", &collectMetadata{}, engine.Params{"instance_id": "i-1", "region": []any{"a"}},
			`collect-metadata: parameter "region": want string, got list`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in, ev := stepInput("cr-1", tt.params)
			_, err := tt.act.Run(context.Background(), in)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Run error:\ngot  %v\nwant %s", err, tt.want)
			}
			if len(eventNames(ev)) != 0 || len(ev.Records()) != 0 || len(ev.Names()) != 0 {
				t.Errorf("evidence: got %d events, %d records, %d artifacts; want none", len(eventNames(ev)), len(ev.Records()), len(ev.Names()))
			}
		})
	}
}
