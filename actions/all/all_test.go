package all

import (
	"reflect"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsperm"
)

// specs is every registered action's spec. No AWS call is made: clients
// are only built, never used.
func specs(t *testing.T) []engine.ActionSpec {
	t.Helper()
	reg := Registry(awsapi.NewClients(aws.Config{Region: "us-east-1"}), Options{})
	var out []engine.ActionSpec
	for _, name := range reg.Names() {
		a, _ := reg.Lookup(name)
		out = append(out, a.Spec())
	}
	if len(out) == 0 {
		t.Fatal("no action registered")
	}
	return out
}

// TestPermissionsCoverCalls: an action's IAM permissions hold every
// permission its calls need, so a call added to the list cannot be missing
// from `firebreak iam-policy` or from plan --check's simulation.
func TestPermissionsCoverCalls(t *testing.T) {
	t.Parallel()
	for _, s := range specs(t) {
		for _, c := range s.Calls {
			for _, p := range awsperm.PermissionsOf(c) {
				if !slices.Contains(s.Permissions, p) {
					t.Errorf("action %q: call %s needs %s, which its Permissions lack", s.Name, c, p)
				}
			}
		}
		if len(s.Permissions) > 0 && len(s.Calls) == 0 {
			t.Errorf("action %q: permissions %q but no calls; derive them from the calls (awsperm.ForCalls)", s.Name, s.Permissions)
		}
	}
}

// TestParamsWellFormed: no two parameters of an action share a name, a
// required one has no default, and a default is of its parameter's type
// and in its enum (the loader and runner trust all three).
func TestParamsWellFormed(t *testing.T) {
	t.Parallel()
	for _, s := range specs(t) {
		seen := map[string]bool{}
		for _, p := range s.Params {
			if seen[p.Name] {
				t.Errorf("action %q: parameter %q declared twice", s.Name, p.Name)
			}
			seen[p.Name] = true
			if p.Required && p.Default != nil {
				t.Errorf("action %q: parameter %q is required and has a default", s.Name, p.Name)
			}
			if p.Default == nil {
				continue
			}
			c, err := engine.Coerce(p.Type, p.Default)
			if err != nil {
				t.Errorf("action %q: default of %q: %v", s.Name, p.Name, err)
			}
			if str, ok := c.(string); ok && len(p.Enum) > 0 && !slices.Contains(p.Enum, str) {
				t.Errorf("action %q: default %q of %q is not in its enum %q", s.Name, str, p.Name, p.Enum)
			}
		}
	}
}

// TestGrantsNarrowEscalations: an action that needs an escalating IAM
// action (a policy write, iam:PassRole) declares a grant that narrows it,
// so `firebreak iam-policy` never allows it on "*"; a grant only narrows
// permissions the action has; grants of one statement, from whatever
// action, agree on the condition (their resources are merged).
func TestGrantsNarrowEscalations(t *testing.T) {
	t.Parallel()
	type where struct {
		resource  []string
		condition map[string]map[string]string
		action    string
	}
	statements := map[string]where{}
	for _, s := range specs(t) {
		var granted []string
		for _, g := range s.Grants {
			if g.Statement == "" || len(g.Actions) == 0 || len(g.Resource) == 0 {
				t.Errorf("action %q: grant %+v needs a statement, actions and a resource", s.Name, g)
			}
			for _, a := range g.Actions {
				if !slices.Contains(s.Permissions, a) {
					t.Errorf("action %q: grant %q narrows %s, which is not among its permissions", s.Name, g.Statement, a)
				}
			}
			granted = append(granted, g.Actions...)
			w := where{g.Resource, g.Condition, s.Name}
			// Resources merge (iam-policy lists every grant's); a condition
			// cannot, so the grants of one statement agree on it.
			if prev, ok := statements[g.Statement]; ok && !reflect.DeepEqual(prev.condition, w.condition) {
				t.Errorf("statement %q: action %q grants under %v, action %q under %v", g.Statement, prev.action, prev.condition, s.Name, w.condition)
			}
			statements[g.Statement] = w
		}
		for _, p := range s.Permissions {
			if slices.Contains(awsperm.Escalating, p) && !slices.Contains(granted, p) {
				t.Errorf("action %q needs %s without a grant narrowing it: declare one (awsperm.InlinePolicyWrites, PassOwnRolesToEC2)", s.Name, p)
			}
		}
	}
}
