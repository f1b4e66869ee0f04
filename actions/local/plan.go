package local

import (
	"context"
	"strconv"
	"strings"

	"github.com/firebreak-ir/firebreak/engine"
)

// Plan says which program the step would run, with which arguments, and
// never runs it. With Check it also looks the program up, so a missing tool
// shows before the incident rather than during it.
func (*command) Plan(_ context.Context, in *engine.PlanInput) (*engine.PlanDetail, error) {
	d := &engine.PlanDetail{}
	argv, ok := in.Params["argv"].([]any)
	if !ok {
		d.Calls = []string{"exec " + planWord(in.Params["argv"])}
		return d, nil
	}
	words := make([]string, len(argv))
	for i, v := range argv {
		words[i] = planWord(v)
	}
	d.Calls = []string{"exec " + strings.Join(words, " ")}
	if dir := in.Params["dir"]; dir != nil {
		d.Notes = append(d.Notes, "in dir "+planWord(dir))
	}
	if env, ok := in.Params["env"].(map[string]any); ok && len(env) > 0 {
		// Names only: values may be tokens.
		d.Notes = append(d.Notes, "env sets "+strings.Join(engine.SortedKeys(env), ", "))
	}
	if in.Check && len(argv) > 0 {
		if name, ok := argv[0].(string); ok {
			d.Problems = append(d.Problems, checkProgram(in.Params, name)...)
		}
	}
	return d, nil
}

func checkProgram(params engine.Params, name string) []string {
	env, err := buildEnv(params.Strings("inherit_env"), params.Map("env"), nil)
	if err != nil {
		return []string{err.Error()}
	}
	dir, _ := params["dir"].(string)
	if _, err := lookPath(name, envValue(env, "PATH"), dir); err != nil {
		return []string{err.Error()}
	}
	return nil
}

// planWord shows one argument as a shell user would read it: plain when
// it is safe, quoted otherwise, <runtime: ...> when not known yet.
func planWord(v any) string {
	switch x := v.(type) {
	case engine.Unknown:
		return x.String()
	case string:
		if x != "" && !strings.ContainsAny(x, " \t\n\"'\\$`;&|<>*?()[]{}#~!") {
			return x
		}
		return strconv.Quote(x)
	default:
		return engine.Format(v)
	}
}
