package engine

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Value is a compiled `with` value or input default: a literal, a
// whole-value expression ("${{ x }}", which keeps x's type), a string with
// expressions inside (formatted), or a list or map of values.
type Value interface {
	// Eval computes the value with env.
	Eval(env *Env) (any, error)
	// Exprs returns the expressions inside, in order.
	Exprs() []*Expr
}

// Literal is a value with no expression in it.
type Literal struct{ V any }

// Whole is a value that is exactly one ${{ }} expression.
type Whole struct{ E *Expr }

// Interp is a string with ${{ }} expressions inside it.
type Interp struct {
	Texts []string // len(Texts) == len(Exprs)+1
	Parts []*Expr
}

// ListValue is a list whose items may hold expressions.
type ListValue struct{ Items []Value }

// MapValue is a map whose values may hold expressions.
type MapValue struct{ Items map[string]Value }

func (l Literal) Eval(*Env) (any, error) { return l.V, nil }
func (l Literal) Exprs() []*Expr         { return nil }
func (w Whole) Eval(env *Env) (any, error) {
	return w.E.Eval(env)
}
func (w Whole) Exprs() []*Expr { return []*Expr{w.E} }

func (s Interp) Eval(env *Env) (any, error) {
	var b strings.Builder
	for i, e := range s.Parts {
		b.WriteString(s.Texts[i])
		v, err := e.Eval(env)
		if err != nil {
			return nil, err
		}
		b.WriteString(Format(v))
	}
	b.WriteString(s.Texts[len(s.Texts)-1])
	return b.String(), nil
}
func (s Interp) Exprs() []*Expr { return s.Parts }

func (l ListValue) Eval(env *Env) (any, error) {
	out := make([]any, len(l.Items))
	for i, it := range l.Items {
		v, err := it.Eval(env)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}
func (l ListValue) Exprs() []*Expr {
	var all []*Expr
	for _, it := range l.Items {
		all = append(all, it.Exprs()...)
	}
	return all
}

func (m MapValue) Eval(env *Env) (any, error) {
	out := make(map[string]any, len(m.Items))
	for _, k := range SortedKeys(m.Items) {
		v, err := m.Items[k].Eval(env)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}
func (m MapValue) Exprs() []*Expr {
	var all []*Expr
	for _, k := range SortedKeys(m.Items) {
		all = append(all, m.Items[k].Exprs()...)
	}
	return all
}

// Format renders a value inside a longer string: strings as they are, nil
// as empty, lists and maps as JSON.
func Format(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []any, map[string]any:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	default:
		return fmt.Sprint(x)
	}
}

// TemplateError is a compile error in a string value, with the byte offset
// in the string where the failing expression's source starts, so that the
// loader can place it in the YAML.
type TemplateError struct {
	Offset int // byte offset of the expression source in the string
	Err    error
}

func (e *TemplateError) Error() string { return e.Err.Error() }
func (e *TemplateError) Unwrap() error { return e.Err }

// CompileString compiles a string that may hold ${{ }} expressions. A string
// that is exactly one expression (spaces around it allowed) becomes a Whole;
// one without any becomes a Literal.
func CompileString(s string) (Value, error) {
	if !strings.Contains(s, "${{") {
		return Literal{V: s}, nil
	}
	var texts []string
	var parts []*Expr
	rest, offset := s, 0
	for {
		i := strings.Index(rest, "${{")
		if i < 0 {
			texts = append(texts, rest)
			break
		}
		j := strings.Index(rest[i+3:], "}}")
		if j < 0 {
			return nil, &TemplateError{Offset: offset + i, Err: fmt.Errorf("unclosed ${{: want }} after %q", rest[i:])}
		}
		src := rest[i+3 : i+3+j]
		if strings.TrimSpace(src) == "" {
			return nil, &TemplateError{Offset: offset + i, Err: fmt.Errorf("empty expression ${{ }}")}
		}
		e, err := CompileExpr(src, ExprAny)
		if err != nil {
			return nil, &TemplateError{Offset: offset + i + 3, Err: err}
		}
		texts = append(texts, rest[:i])
		parts = append(parts, e)
		offset += i + 3 + j + 2
		rest = rest[i+3+j+2:]
	}
	if len(parts) == 1 && strings.TrimSpace(texts[0]) == "" && strings.TrimSpace(texts[1]) == "" {
		return Whole{E: parts[0]}, nil
	}
	return Interp{Texts: texts, Parts: parts}, nil
}

// CompileValue compiles a decoded YAML value (string, number, bool, nil,
// []any, map[string]any), finding every ${{ }} inside it.
func CompileValue(v any) (Value, error) {
	switch x := v.(type) {
	case string:
		return CompileString(x)
	case []any:
		items := make([]Value, len(x))
		for i, it := range x {
			c, err := CompileValue(it)
			if err != nil {
				return nil, err
			}
			items[i] = c
		}
		return ListValue{Items: items}, nil
	case map[string]any:
		items := make(map[string]Value, len(x))
		for k, it := range x {
			c, err := CompileValue(it)
			if err != nil {
				return nil, err
			}
			items[k] = c
		}
		return MapValue{Items: items}, nil
	default:
		return Literal{V: v}, nil
	}
}
