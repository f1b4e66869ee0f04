package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// denyOne denies one IAM action, as iam:SimulatePrincipalPolicy would for
// a caller whose policies lack it.
type denyOne struct{ action string }

func (d denyOne) Check(_ context.Context, actions []string) (map[string]string, error) {
	for _, a := range actions {
		if a == d.action {
			return map[string]string{a: "implicitDeny"}, nil
		}
	}
	return map[string]string{}, nil
}

// TestPlanCheckDeniedPermission: a permission the checker denies is a
// problem of the step in the plan JSON, and the check ends with exit 1.
func TestPlanCheckDeniedPermission(t *testing.T) {
	tests := []struct {
		name     string
		check    bool
		problems []string
		code     int
	}{
		{"check", true, []string{"iam: sns:Publish denied (implicitDeny)"}, 1},
		{"no check", false, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			st := &cliState{stdout: &out, stderr: &errb}
			reg := st.registry(t.Context(), false)
			pb, err := st.find(reg, "testdata/perms/notify.yaml")
			if err != nil {
				t.Fatal(err)
			}
			opts := st.planOptions(&runInputs{}, tt.check, denyOne{action: "sns:Publish"})
			problems, err := st.planOne(t.Context(), reg, pb, map[string]any{}, "json", tt.check, opts)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Steps []struct {
					ID       string   `json:"id"`
					Problems []string `json:"problems"`
				} `json:"steps"`
			}
			if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
				t.Fatalf("plan JSON: %v\n%s", err, out.String())
			}
			if len(doc.Steps) != 1 || !reflect.DeepEqual(doc.Steps[0].Problems, tt.problems) {
				t.Errorf("steps: got %+v, want tell with problems %q", doc.Steps, tt.problems)
			}
			if got := exitCode(st.checkOutcome(tt.check, problems)); got != tt.code {
				t.Errorf("exit code: got %d, want %d (stderr %q)", got, tt.code, errb.String())
			}
			if tt.code == 1 && !strings.Contains(errb.String(), "tell: iam: sns:Publish denied (implicitDeny)") {
				t.Errorf("stderr: got %q, want it to name the denied permission", errb.String())
			}
		})
	}
}

// TestPlanCheckPermissionsOnMoto: moto 5.2.1 does not implement
// iam:SimulatePrincipalPolicy, so plan --check and run --dry-run must say
// that permissions were not checked, never pass them silently.
func TestPlanCheckPermissionsOnMoto(t *testing.T) {
	s, m := awsSandbox(t)
	ctx := testenv.Context(t)
	api := iam.NewFromConfig(m.Config())
	keys := map[string]string{}
	for _, user := range []string{"responder", "leaky"} {
		if _, err := api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}); err != nil {
			t.Fatal(err)
		}
		k, err := api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
		if err != nil {
			t.Fatal(err)
		}
		keys[user] = aws.ToString(k.AccessKey.AccessKeyId)
		if user == "responder" {
			// The binary acts as this IAM user (the last value of a
			// duplicated variable wins).
			s.env = append(s.env, "AWS_ACCESS_KEY_ID="+keys[user],
				"AWS_SECRET_ACCESS_KEY="+aws.ToString(k.AccessKey.SecretAccessKey), "AWS_SESSION_TOKEN=")
		}
	}
	want := "permissions not checked: iam:SimulatePrincipalPolicy is not answered by this endpoint"

	r := s.run("plan", "key-compromise", "-i", "access_key_id="+keys["leaky"], "--check", "--format", "json")
	var doc struct {
		PermissionCheck string `json:"permission_check"`
		Steps           []struct {
			ID    string   `json:"id"`
			Notes []string `json:"notes"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("plan JSON (exit %d): %v\n%s", r.code, err, r)
	}
	if !strings.HasPrefix(doc.PermissionCheck, want) {
		t.Errorf("permission_check: got %q, want it to start %q", doc.PermissionCheck, want)
	}
	// disable needs IAM permissions; log (upload-log) needs none.
	for _, st := range doc.Steps {
		if got := strings.Contains(strings.Join(st.Notes, "\n"), want); got != (st.ID == "disable") {
			t.Errorf("step %s notes: got %q; want a note %q only on disable", st.ID, st.Notes, want)
		}
	}

	r = s.run("run", "key-compromise", "-i", "access_key_id="+keys["leaky"], "--dry-run")
	contains(t, "run --dry-run", r.stdout, "mode: check", "iam: "+want)
}
