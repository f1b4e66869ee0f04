package iam

import (
	"github.com/firebreak-ir/firebreak/internal/revoke"

	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestPlansChangeNothing: plan --check finds the key's user and foresees
// the refusal of the run's own key, and leaves the key and user as they were.
func TestPlansChangeNothing(t *testing.T) {
	w := newIAMWorld(t)
	ctx := testenv.Context(t)
	key, secret := w.newUser(t, ctx, "ci-deployer")
	plan := func(reg *engine.Registry, name string, p engine.Params) *engine.PlanDetail {
		a, _ := reg.Lookup(name)
		d, err := a.(engine.Planner).Plan(ctx, &engine.PlanInput{Check: true, Params: p})
		if err != nil {
			t.Fatalf("%s plan: %v", name, err)
		}
		return d
	}
	d := plan(w.reg, "disable-key", engine.Params{"access_key_id": key, "lookback": "168h"})
	if len(d.Problems) != 0 || len(d.Notes) != 1 || !strings.Contains(d.Notes[0], "belongs to user ci-deployer and is Active") {
		t.Errorf("disable-key plan: got %+v, want the user and no problem", d)
	}
	asOwn := registryAs(w.configAs(key, secret))
	if d := plan(asOwn, "disable-key", engine.Params{"access_key_id": key}); len(d.Problems) != 1 || !strings.Contains(d.Problems[0], "the one this run uses") {
		t.Errorf("disable-key plan as the key itself: got %+v, want the refusal foreseen", d)
	}
	if d := plan(w.reg, "disable-key", engine.Params{"access_key_id": "AKIAEXAMPLEKEY123456"}); len(d.Problems) != 1 {
		t.Errorf("disable-key plan of an unknown key: got %+v, want one problem", d)
	}
	if d := plan(asOwn, "revoke-sessions", engine.Params{"user_name": "ci-deployer"}); len(d.Problems) != 1 || !strings.HasPrefix(d.Calls[0], "iam:PutUserPolicy") {
		t.Errorf("revoke-sessions plan of the run's own user: got %+v, want PutUserPolicy and the refusal", d)
	}
	d = plan(w.reg, "revoke-sessions", engine.Params{"role_name": engine.Unknown{Expr: "inputs.role"}})
	if !strings.Contains(d.Calls[0], "iam:PutRolePolicy "+revoke.PolicyName+" on role <runtime: inputs.role>") {
		t.Errorf("revoke-sessions plan of an unknown role: got %+v", d)
	}
	if st := w.keyStatuses(t, ctx, "ci-deployer"); st[key] != types.StatusTypeActive {
		t.Errorf("after planning: key %s, want Active", st[key])
	}
	pols, err := w.iam.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("ci-deployer")})
	if err != nil || len(pols.PolicyNames) != 0 {
		t.Errorf("after planning: policies %v (%v), want none", pols, err)
	}
}
