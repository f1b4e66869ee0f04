package runner

import (
	"fmt"

	"github.com/firebreak-ir/firebreak/engine"
)

// secretEnv returns the environment variable names the playbook's steps
// give to parameters marked secretenv, each with the step and parameter
// that name it: every literal, and every value the inputs and the finding
// decide. A value that reads other steps is known only later and is left
// out (a command step that ran before could not have been refused anyway).
func (m *machine) secretEnv() map[string]string {
	out := map[string]string{}
	for _, st := range append(append([]*stepState{}, m.main...), m.fin...) {
		if !engine.HasSecretEnv(st.spec.Params) {
			continue
		}
		vals := map[string]any{}
		env := m.base // no steps, no item: what is known before the run
		for _, p := range st.spec.Params {
			if v, ok := st.step.With[p.Name]; ok && v != nil {
				if x, err := v.Eval(&env); err == nil {
					vals[p.Name] = x
				}
			}
		}
		for name, param := range engine.SecretEnvNames(st.spec.Params, vals) {
			if _, seen := out[name]; !seen {
				out[name] = fmt.Sprintf("%s of step %q", param, st.step.ID)
			}
		}
	}
	return out
}
