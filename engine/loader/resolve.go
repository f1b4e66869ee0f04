package loader

import (
	"errors"

	"github.com/firebreak-ir/firebreak/engine"
)

// ResolveInputs checks given values against pb's declarations and returns
// the inputs a run sees: each coerced to its type (engine.Coerce), checked
// against pattern and enum; a missing one takes its default (an expression
// is evaluated with env's Finding and Incident; env may be nil) or, when
// optional, the zero value of its type, so that expressions never meet a
// missing key. A required input must be given, or get a non-empty default.
// Unknown names are refused. Every problem is reported, joined; each is an
// *InputError wrapping engine.ErrInvalidInput.
func ResolveInputs(pb *engine.Playbook, given map[string]any, env *engine.Env) (map[string]any, error) {
	var errs []error
	names := make([]string, len(pb.Inputs))
	for i, in := range pb.Inputs {
		names[i] = in.Name
	}
	for _, k := range engine.SortedKeys(given) {
		if _, ok := pb.Input(k); !ok {
			hint := suggest(k, names)
			if hint == "" {
				hint = " (the playbook takes none)"
				if len(names) > 0 {
					hint = " (it takes " + quoteAll(names) + ")"
				}
			}
			errs = append(errs, inputErr(k, "unknown input%s", hint))
		}
	}
	if env == nil {
		env = &engine.Env{}
	}
	out := make(map[string]any, len(pb.Inputs))
	for _, in := range pb.Inputs {
		v, err := resolveOne(in, given, env)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[in.Name] = v
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := CheckInputsSize(out); err != nil {
		return nil, err
	}
	return out, nil
}

func resolveOne(in *engine.Input, given map[string]any, env *engine.Env) (any, error) {
	v, ok := given[in.Name]
	from := "value"
	if !ok && in.Default != nil {
		d, err := in.Default.Eval(env)
		if err != nil {
			return nil, inputErr(in.Name, "computing the default: %v", err)
		}
		v, ok, from = d, d != nil, "default"
	}
	if !ok || v == nil {
		if in.Required {
			return nil, inputErr(in.Name, "required: give it with -i %s=VALUE or in --inputs-file", in.Name)
		}
		return zero(in.Type), nil
	}
	c, err := checkInput(in, v)
	if err != nil {
		return nil, inputErr(in.Name, "%s: %v", from, err)
	}
	if s, isStr := c.(string); isStr && s == "" && in.Required {
		return nil, inputErr(in.Name, "required, and the %s is empty: give it with -i %s=VALUE", from, in.Name)
	}
	return c, nil
}

func zero(t engine.Type) any {
	switch t {
	case engine.TypeInt:
		return 0
	case engine.TypeBool:
		return false
	case engine.TypeList:
		return []any{}
	case engine.TypeMap:
		return map[string]any{}
	}
	return ""
}
