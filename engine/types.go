package engine

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Type is the type of an input, an action parameter or an output.
type Type string

// The types a playbook can declare.
const (
	TypeString   Type = "string"
	TypeInt      Type = "int"
	TypeBool     Type = "bool"
	TypeList     Type = "list"
	TypeMap      Type = "map"
	TypeDuration Type = "duration" // a Go duration string, "90s", "1h"
	TypeAny      Type = "any"
)

// InputTypes are the types an input may declare.
var InputTypes = []Type{TypeString, TypeInt, TypeBool, TypeList, TypeMap}

// Coerce converts v to t, accepting what a YAML or JSON decoder or a command
// line gives (an int as float64, "true" for a bool, "a,b" for a list). It
// returns an error that says what was expected and what was found.
func Coerce(t Type, v any) (any, error) {
	switch t {
	case TypeAny, "":
		return v, nil
	case TypeString:
		switch x := v.(type) {
		case string:
			return x, nil
		case int, int64, uint64, float64, bool:
			return fmt.Sprint(x), nil
		}
	case TypeInt:
		switch x := v.(type) {
		case int:
			return x, nil
		case int64:
			return int(x), nil
		case uint64:
			if x <= math.MaxInt64 {
				return int(x), nil
			}
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
				return int(x), nil
			}
		case string:
			if n, err := strconv.Atoi(strings.TrimSpace(x)); err == nil {
				return n, nil
			}
		}
	case TypeBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			if b, err := strconv.ParseBool(strings.TrimSpace(x)); err == nil {
				return b, nil
			}
		}
	case TypeDuration:
		switch x := v.(type) {
		case time.Duration:
			return x, nil
		case string:
			if d, err := time.ParseDuration(strings.TrimSpace(x)); err == nil {
				return d, nil
			}
		}
	case TypeList:
		switch x := v.(type) {
		case []any:
			return x, nil
		case []string:
			out := make([]any, len(x))
			for i, s := range x {
				out[i] = s
			}
			return out, nil
		case string:
			if x == "" {
				return []any{}, nil
			}
			parts := strings.Split(x, ",")
			out := make([]any, len(parts))
			for i, s := range parts {
				out[i] = strings.TrimSpace(s)
			}
			return out, nil
		}
	case TypeMap:
		switch x := v.(type) {
		case map[string]any:
			return x, nil
		}
	default:
		return nil, fmt.Errorf("unknown type %q", string(t))
	}
	return nil, fmt.Errorf("want %s, got %s", t, Describe(v))
}

// Describe names the type of a decoded value the way a playbook author
// thinks of it: "string \"abc\"", "list", "map", "int 3".
func Describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("string %q", x)
	case bool:
		return fmt.Sprintf("bool %v", x)
	case int, int64, uint64:
		return fmt.Sprintf("int %v", x)
	case float64:
		return fmt.Sprintf("number %v", x)
	case []any:
		return "list"
	case map[string]any:
		return "map"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// Params are an action's evaluated parameters. The accessors return the zero
// value for a missing parameter: the engine has already checked required
// ones and applied defaults, so a missing value means "not given".
type Params map[string]any

// String returns the string parameter name.
func (p Params) String(name string) string { s, _ := p[name].(string); return s }

// Int returns the int parameter name.
func (p Params) Int(name string) int { n, _ := p[name].(int); return n }

// Bool returns the bool parameter name.
func (p Params) Bool(name string) bool { b, _ := p[name].(bool); return b }

// Duration returns the duration parameter name.
func (p Params) Duration(name string) time.Duration { d, _ := p[name].(time.Duration); return d }

// List returns the list parameter name.
func (p Params) List(name string) []any { l, _ := p[name].([]any); return l }

// Strings returns the list parameter name as strings, formatting non-strings.
func (p Params) Strings(name string) []string {
	l := p.List(name)
	out := make([]string, 0, len(l))
	for _, v := range l {
		if s, ok := v.(string); ok {
			out = append(out, s)
		} else {
			out = append(out, fmt.Sprint(v))
		}
	}
	return out
}

// Map returns the map parameter name.
func (p Params) Map(name string) map[string]any { m, _ := p[name].(map[string]any); return m }

// Has reports whether name was given (or defaulted).
func (p Params) Has(name string) bool { _, ok := p[name]; return ok }

// SortedKeys returns m's keys in order, for stable output.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
