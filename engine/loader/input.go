package loader

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/expr-lang/expr/ast"
	"gopkg.in/yaml.v3"

	"github.com/firebreak-ir/firebreak/engine"
)

// inputName is the form of input names: they are read as inputs.NAME in
// expressions, so no dashes.
var inputName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (d *decoder) inputs(f field) []*engine.Input {
	var out []*engine.Input
	var target *engine.Input
	for _, e := range d.fields(f.val, "inputs", nil) {
		if !inputName.MatchString(e.name) {
			d.errf(e.key, "bad input name %q: use letters, digits and underscores (it is read as inputs.NAME)", e.name)
		}
		in := d.input(e)
		if in.Target && target != nil {
			d.errf(e.key, "only one input can be the target, and %q already is: remove target from one", target.Name)
		} else if in.Target {
			target = in
		}
		out = append(out, in)
	}
	return out
}

func (d *decoder) input(e field) *engine.Input {
	in := &engine.Input{Name: e.name, Type: engine.TypeString, Pos: d.pos(e.key)}
	what := fmt.Sprintf("input %q", e.name)
	fs := d.fields(e.val, what, inputFields)
	by := map[string]field{}
	for _, f := range fs {
		by[f.name] = f
	}
	if f, ok := by["type"]; ok {
		if t, n := d.str(f); n != nil {
			if slices.Contains(engine.InputTypes, engine.Type(t)) {
				in.Type = engine.Type(t)
			} else {
				d.errf(n, "unknown type %q for %s: use one of string, int, bool, list, map%s", t, what, d.hint(t, typeNames()))
			}
		}
	}
	in.Required, _ = d.bool(by["required"])
	in.Target, _ = d.bool(by["target"])
	in.Description, _ = d.str(by["description"])
	if f, ok := by["pattern"]; ok {
		d.pattern(f, in)
	}
	if f, ok := by["enum"]; ok {
		d.enum(f, in)
	}
	if f, ok := by["default"]; ok {
		in.Default = d.inputDefault(f, in)
	}
	return in
}

func typeNames() []string {
	out := make([]string, len(engine.InputTypes))
	for i, t := range engine.InputTypes {
		out[i] = string(t)
	}
	return out
}

func (d *decoder) pattern(f field, in *engine.Input) {
	s, n := d.str(f)
	if n == nil {
		return
	}
	if in.Type != engine.TypeString && in.Type != engine.TypeList {
		d.errf(n, "pattern applies to string and list inputs, and %q is %s: remove it", in.Name, in.Type)
		return
	}
	re, err := regexp.Compile(s)
	if err != nil {
		d.errf(n, "bad pattern %q: %v", s, err)
		return
	}
	in.Pattern = re
}

func (d *decoder) enum(f field, in *engine.Input) {
	n := d.deref(f.val)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errf(n, "enum must be a list of the allowed values, got %s", describe(n))
		return
	}
	for _, it := range n.Content {
		v, ok := d.plain(it, 1)
		if !ok {
			continue
		}
		c, err := engine.Coerce(in.Type, v)
		if err != nil {
			d.errf(d.deref(it), "enum value of input %q: %v", in.Name, err)
			continue
		}
		in.Enum = append(in.Enum, c)
	}
}

// inputDefault compiles a default. A literal is coerced and checked now;
// an expression may read only finding and incident, known when the run
// starts.
func (d *decoder) inputDefault(f field, in *engine.Input) engine.Value {
	var sites []site
	v, ok := d.compile(f.val, fmt.Sprintf("the default of input %q", in.Name), 0, &sites)
	if !ok {
		return nil
	}
	if len(sites) > 0 {
		for _, s := range sites {
			for _, name := range envNames(s.E) {
				if name != "finding" && name != "incident" {
					d.errAt(d.posIn(s.N, s.Off+max(0, strings.Index(s.E.Source, name))),
						"the default of input %q reads %s: a default may read only finding and incident", in.Name, name)
				}
			}
		}
		return v
	}
	lit, err := v.Eval(&engine.Env{})
	if err == nil {
		lit, err = checkInput(in, lit)
	}
	if err != nil {
		d.errf(d.deref(f.val), "default of input %q: %v", in.Name, err)
		return nil
	}
	return engine.Literal{V: lit}
}

// checkInput coerces v to the input's type and checks pattern and enum.
// The error does not name the input; callers do.
func checkInput(in *engine.Input, v any) (any, error) {
	c, err := engine.Coerce(in.Type, v)
	if err != nil {
		return nil, err
	}
	if in.Pattern != nil {
		items := []any{c}
		if l, ok := c.([]any); ok {
			items = l
		}
		for _, it := range items {
			if s := engine.Format(it); !in.Pattern.MatchString(s) {
				return nil, fmt.Errorf("%q does not match the pattern %q", s, in.Pattern.String())
			}
		}
	}
	if len(in.Enum) > 0 && !slices.ContainsFunc(in.Enum, func(e any) bool { return engine.Format(e) == engine.Format(c) }) {
		allowed := make([]string, len(in.Enum))
		for i, e := range in.Enum {
			allowed[i] = fmt.Sprintf("%q", engine.Format(e))
		}
		return nil, fmt.Errorf("%q is not one of %s", engine.Format(c), strings.Join(allowed, ", "))
	}
	return c, nil
}

// envRoots are the names an expression can read from engine.Env.
var envRoots = []string{"inputs", "steps", "case", "run", "item", "index", "finding", "incident"}

// envNames returns the environment names e reads, in order of first use.
func envNames(e *engine.Expr) []string {
	if e == nil || e.Program == nil {
		return nil
	}
	v := &identVisitor{}
	root := e.Program.Node()
	ast.Walk(&root, v)
	return v.names
}

type identVisitor struct{ names []string }

func (v *identVisitor) Visit(node *ast.Node) {
	if id, ok := (*node).(*ast.IdentifierNode); ok && slices.Contains(envRoots, id.Value) && !slices.Contains(v.names, id.Value) {
		v.names = append(v.names, id.Value)
	}
}
