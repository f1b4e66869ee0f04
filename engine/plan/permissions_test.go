package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

// denyChecker denies the actions in deny and records what it was asked.
type denyChecker struct {
	deny  map[string]string
	err   error
	asked [][]string
}

func (c *denyChecker) Check(_ context.Context, actions []string) (map[string]string, error) {
	c.asked = append(c.asked, slices.Clone(actions))
	if c.err != nil {
		return nil, c.err
	}
	out := map[string]string{}
	for _, a := range actions {
		if why, ok := c.deny[a]; ok {
			out[a] = why
		}
	}
	return out, nil
}

// permPlaybook has a step that needs ec2:CreateSnapshots, one that needs
// iam:UpdateAccessKey, and a skipped one whose permission must not be asked.
func permPlaybook(t *testing.T) (*engine.Registry, *engine.Playbook) {
	t.Helper()
	reg := engine.NewRegistry()
	reg.Register(&noRun{t: t, spec: engine.ActionSpec{Name: "snapshot", Mutating: true,
		Calls: []string{"ec2:CreateSnapshots"}, Permissions: []string{"ec2:CreateSnapshots", "ec2:DescribeSnapshots"}}})
	reg.Register(&noRun{t: t, spec: engine.ActionSpec{Name: "disable-key", Mutating: true,
		Calls: []string{"iam:UpdateAccessKey"}, Permissions: []string{"sts:GetCallerIdentity", "iam:UpdateAccessKey"}}})
	reg.Register(&noRun{t: t, spec: engine.ActionSpec{Name: "terminate", Mutating: true,
		Calls: []string{"ec2:StopInstances"}, Permissions: []string{"ec2:StopInstances"}}})
	pb := &engine.Playbook{Name: "perms", Version: "1", SHA256: "00",
		Inputs: []*engine.Input{{Name: "terminate", Type: engine.TypeBool}},
		Steps: []*engine.Step{
			{ID: "disks", Action: "snapshot"},
			{ID: "key", Action: "disable-key"},
			{ID: "stop", Action: "terminate", When: compileExpr(t, "inputs.terminate", engine.ExprBool)},
		}}
	return reg, graphed(t, pb)
}

func TestPermissionCheck(t *testing.T) {
	denied := "iam: ec2:CreateSnapshots denied (implicitDeny)"
	tests := []struct {
		name      string
		check     bool
		checker   *denyChecker
		asked     [][]string
		problems  []string
		note      string
		permCheck string
	}{
		{"one denied", true, &denyChecker{deny: map[string]string{"ec2:CreateSnapshots": "implicitDeny"}},
			[][]string{{"ec2:CreateSnapshots", "ec2:DescribeSnapshots", "iam:UpdateAccessKey"}},
			[]string{"disks: " + denied}, "", "3 permission(s) checked with the caller's policies, 1 denied"},
		{"all allowed", true, &denyChecker{},
			[][]string{{"ec2:CreateSnapshots", "ec2:DescribeSnapshots", "iam:UpdateAccessKey"}},
			nil, "", "3 permission(s) checked with the caller's policies, 0 denied"},
		{"checker fails", true, &denyChecker{err: errors.New("iam:SimulatePrincipalPolicy: access denied")},
			[][]string{{"ec2:CreateSnapshots", "ec2:DescribeSnapshots", "iam:UpdateAccessKey"}},
			nil, "permissions not checked: iam:SimulatePrincipalPolicy: access denied",
			"permissions not checked: iam:SimulatePrincipalPolicy: access denied"},
		{"no check, not asked", false, &denyChecker{deny: map[string]string{"ec2:CreateSnapshots": "implicitDeny"}},
			nil, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, pb := permPlaybook(t)
			p, err := Build(t.Context(), reg, pb, map[string]any{"terminate": false}, tt.check, WithPermissionChecker(tt.checker))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(tt.checker.asked, tt.asked) {
				t.Errorf("asked: got %q, want %q", tt.checker.asked, tt.asked)
			}
			if got := p.Problems(); !reflect.DeepEqual(got, tt.problems) {
				t.Errorf("problems: got %q, want %q", got, tt.problems)
			}
			if p.PermissionCheck != tt.permCheck {
				t.Errorf("permission_check: got %q, want %q", p.PermissionCheck, tt.permCheck)
			}
			for _, id := range []string{"disks", "key"} {
				st, _ := p.Step(id)
				if tt.note != "" && !slices.Contains(st.Notes, tt.note) {
					t.Errorf("%s notes: got %q, want %q among them", id, st.Notes, tt.note)
				}
			}
			var buf bytes.Buffer
			if err := p.JSON(&buf); err != nil {
				t.Fatal(err)
			}
			var doc struct {
				PermissionCheck string `json:"permission_check"`
				Steps           []struct {
					ID       string   `json:"id"`
					Problems []string `json:"problems"`
				} `json:"steps"`
			}
			if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.PermissionCheck != tt.permCheck {
				t.Errorf("json permission_check: got %q, want %q", doc.PermissionCheck, tt.permCheck)
			}
			if len(tt.problems) > 0 && (doc.Steps[0].ID != "disks" || !reflect.DeepEqual(doc.Steps[0].Problems, []string{denied})) {
				t.Errorf("json steps[0]: got %+v, want disks with %q", doc.Steps[0], denied)
			}
			buf.Reset()
			if err := p.Text(&buf); err != nil {
				t.Fatal(err)
			}
			if tt.permCheck != "" && !strings.Contains(buf.String(), "iam: "+tt.permCheck+"\n") {
				t.Errorf("text: got\n%s\nwant a line %q", buf.String(), "iam: "+tt.permCheck)
			}
		})
	}
}
