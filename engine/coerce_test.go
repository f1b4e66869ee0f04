package engine_test

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestCoerce: each type takes what a YAML or JSON decoder or a command line
// gives for it, and nothing else; an error says what was wanted and found.
func TestCoerce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		typ     engine.Type
		in      any
		want    any
		wantErr string
	}{
		{"any keeps anything", engine.TypeAny, []any{1}, []any{1}, ""},
		{"no type is any", "", map[string]any{"a": 1}, map[string]any{"a": 1}, ""},
		{"any keeps null", engine.TypeAny, nil, nil, ""},

		{"string", engine.TypeString, "x", "x", ""},
		{"string from int", engine.TypeString, 42, "42", ""},
		{"string from int64", engine.TypeString, int64(-7), "-7", ""},
		{"string from number", engine.TypeString, 1.5, "1.5", ""},
		{"string from bool", engine.TypeString, true, "true", ""},
		{"string not from list", engine.TypeString, []any{"a"}, nil, "want string, got list"},
		{"string not from map", engine.TypeString, map[string]any{}, nil, "want string, got map"},
		{"string not from null", engine.TypeString, nil, nil, "want string, got null"},
		{"string from uint64 (a YAML int beyond int64)", engine.TypeString, uint64(math.MaxUint64), "18446744073709551615", ""},

		{"int", engine.TypeInt, 3, 3, ""},
		{"int from int64", engine.TypeInt, int64(-3), -3, ""},
		{"int from uint64", engine.TypeInt, uint64(9), 9, ""},
		{"int not from a uint64 too big", engine.TypeInt, uint64(math.MaxUint64), nil, "want int, got int 18446744073709551615"},
		{"int from a whole number (JSON)", engine.TypeInt, float64(1 << 40), 1 << 40, ""},
		{"int from a negative whole number", engine.TypeInt, -2.0, -2, ""},
		{"int not from a fraction", engine.TypeInt, 2.5, nil, "want int, got number 2.5"},
		{"int not from a number beyond 2^53", engine.TypeInt, float64(1 << 53), nil, "want int, got number 9.007199254740992e+15"},
		{"int from a string (command line)", engine.TypeInt, " 22 ", 22, ""},
		{"int not from a word", engine.TypeInt, "twenty", nil, `want int, got string "twenty"`},
		{"int not from a bool", engine.TypeInt, true, nil, "want int, got bool true"},

		{"bool", engine.TypeBool, false, false, ""},
		{"bool from a string", engine.TypeBool, " true ", true, ""},
		{"bool from 0", engine.TypeBool, "0", false, ""},
		{"bool not from yes", engine.TypeBool, "yes", nil, `want bool, got string "yes"`},
		{"bool not from an int", engine.TypeBool, 1, nil, "want bool, got int 1"},

		{"duration", engine.TypeDuration, time.Minute, time.Minute, ""},
		{"duration from a string", engine.TypeDuration, " 1h30m ", 90 * time.Minute, ""},
		{"duration not without a unit", engine.TypeDuration, "90", nil, `want duration, got string "90"`},
		{"duration not from a number", engine.TypeDuration, 90, nil, "want duration, got int 90"},

		{"list", engine.TypeList, []any{1, "a"}, []any{1, "a"}, ""},
		{"list from strings", engine.TypeList, []string{"a", "b"}, []any{"a", "b"}, ""},
		{"list from a comma string", engine.TypeList, "a, b ,c", []any{"a", "b", "c"}, ""},
		{"empty list from an empty string", engine.TypeList, "", []any{}, ""},
		{"list not from a map", engine.TypeList, map[string]any{}, nil, "want list, got map"},
		{"list not from an int", engine.TypeList, 3, nil, "want list, got int 3"},

		{"map", engine.TypeMap, map[string]any{"k": "v"}, map[string]any{"k": "v"}, ""},
		{"map not from a string", engine.TypeMap, "k=v", nil, `want map, got string "k=v"`},
		{"map not from a typed map", engine.TypeMap, map[string]string{"k": "v"}, nil, "want map, got map[string]string"},

		{"unknown type", engine.Type("float"), 1.5, nil, `unknown type "float"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := engine.Coerce(tt.typ, tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Coerce(%s, %#v): got %#v, %v; want error %q", tt.typ, tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Coerce(%s, %#v): got %#v, %v; want %#v", tt.typ, tt.in, got, err, tt.want)
			}
		})
	}
}

// TestCoerceInputTypes: every type an input may declare coerces its own
// zero-ish value, so a default written in a playbook round-trips.
func TestCoerceInputTypes(t *testing.T) {
	t.Parallel()
	samples := map[engine.Type]any{engine.TypeString: "", engine.TypeInt: 0, engine.TypeBool: false, engine.TypeList: []any{}, engine.TypeMap: map[string]any{}}
	for _, typ := range engine.InputTypes {
		v, ok := samples[typ]
		if !ok {
			t.Errorf("input type %s has no sample here: add one", typ)
			continue
		}
		got, err := engine.Coerce(typ, v)
		if err != nil || !reflect.DeepEqual(got, v) {
			t.Errorf("Coerce(%s, %#v) = %#v, %v; want it back", typ, v, got, err)
		}
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   any
		want string
	}{
		{nil, "null"}, {"a\"b", `string "a\"b"`}, {true, "bool true"}, {3, "int 3"}, {int64(4), "int 4"}, {uint64(5), "int 5"},
		{2.5, "number 2.5"}, {[]any{}, "list"}, {map[string]any{}, "map"}, {time.Second, "time.Duration"},
	}
	for _, tt := range tests {
		if got := engine.Describe(tt.in); got != tt.want {
			t.Errorf("Describe(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
