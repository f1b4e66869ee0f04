package engine_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

type hop struct {
	Host string `param:"host,required" doc:"the bastion"`
	Port int    `param:"port" default:"22"`
	Pass string `param:"pass_env,secretenv"`
}

type sample struct {
	ID      string         `param:"instance_id,required" doc:"the instance"`
	Region  string         `param:"region" default:"" doc:"empty: the run's default"`
	Mode    string         `param:"mode" default:"stop" enum:"stop,terminate"`
	Wait    time.Duration  `param:"wait" default:"2h"`
	Port    int            `param:"port" default:"22"`
	Size    int64          `param:"size"`
	Sudo    bool           `param:"sudo" default:"true"`
	Token   string         `param:"token,secret"`
	IDs     []string       `param:"ids" default:""`
	Codes   []int          `param:"codes"`
	Raw     []any          `param:"raw"`
	Tags    map[string]any `param:"tags"`
	Jump    *hop           `param:"jump"`
	Any     any            `param:"any"`
	Derived string         `param:"-"`
}

func TestParamsOf(t *testing.T) {
	t.Parallel()
	want := []engine.Param{
		{Name: "instance_id", Type: engine.TypeString, Required: true, Doc: "the instance"},
		{Name: "region", Type: engine.TypeString, Default: "", Doc: "empty: the run's default"},
		{Name: "mode", Type: engine.TypeString, Default: "stop", Enum: []string{"stop", "terminate"}},
		{Name: "wait", Type: engine.TypeDuration, Default: "2h"},
		{Name: "port", Type: engine.TypeInt, Default: 22},
		{Name: "size", Type: engine.TypeInt},
		{Name: "sudo", Type: engine.TypeBool, Default: true},
		{Name: "token", Type: engine.TypeString, Secret: true},
		{Name: "ids", Type: engine.TypeList, Default: []any{}},
		{Name: "codes", Type: engine.TypeList},
		{Name: "raw", Type: engine.TypeList},
		{Name: "tags", Type: engine.TypeMap},
		{Name: "jump", Type: engine.TypeMap},
		{Name: "any", Type: engine.TypeAny},
	}
	got := engine.ParamsOf[sample]()
	wantJump := []engine.Param{{Name: "host", Type: engine.TypeString, Required: true, Doc: "the bastion"},
		{Name: "port", Type: engine.TypeInt, Default: 22}, {Name: "pass_env", Type: engine.TypeString, SecretEnv: true}}
	if f := got[12].Fields(); !reflect.DeepEqual(f, wantJump) {
		t.Errorf("jump's fields:\ngot  %#v\nwant %#v", f, wantJump)
	}
	for i := range got {
		if got[i].Name != "jump" && got[i].Fields() != nil {
			t.Errorf("%s: fields %v, want none", got[i].Name, got[i].Fields())
		}
	}
	flat := func(ps []engine.Param) []string { // Param holds its fields unexported
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = fmt.Sprintf("%#v %#v %v %#v %#v %q %v %v", p.Name, p.Type, p.Required, p.Default, p.Enum, p.Doc, p.Secret, p.SecretEnv)
		}
		return out
	}
	if !reflect.DeepEqual(flat(got), flat(want)) {
		t.Fatalf("ParamsOf:\ngot  %#v\nwant %#v", got, want)
	}
	names := engine.SecretEnvNames(got, map[string]any{"jump": map[string]any{"host": "h", "pass_env": "HOP_PASS"}, "token": "x"})
	if !reflect.DeepEqual(names, map[string]string{"HOP_PASS": "jump.pass_env"}) {
		t.Errorf("SecretEnvNames: got %v, want HOP_PASS from jump.pass_env", names)
	}
	got[2].Enum[0] = "changed"
	if again := engine.ParamsOf[sample](); again[2].Enum[0] != "stop" {
		t.Errorf("a caller's change to the returned enum reached the declaration: %v", again[2].Enum)
	}
}

func TestDecodeDefaultsAndCoercion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   engine.Params
		want sample
	}{
		{"defaults", engine.Params{"instance_id": "i-1"},
			sample{ID: "i-1", Mode: "stop", Wait: 2 * time.Hour, Port: 22, Sudo: true, IDs: []string{}}},
		{"null is not given", engine.Params{"instance_id": "i-1", "mode": nil, "port": nil, "jump": nil},
			sample{ID: "i-1", Mode: "stop", Wait: 2 * time.Hour, Port: 22, Sudo: true, IDs: []string{}}},
		{"coerced as a command line gives them", engine.Params{"instance_id": 7, "port": "2222", "size": float64(1 << 40), "sudo": "false",
			"wait": "90s", "ids": "a, b", "codes": []any{1, "7", float64(28)}, "raw": []any{"x", 1}},
			sample{ID: "7", Mode: "stop", Wait: 90 * time.Second, Port: 2222, Size: 1 << 40, IDs: []string{"a", "b"},
				Codes: []int{1, 7, 28}, Raw: []any{"x", 1}}},
		{"typed values as the runner gives them", engine.Params{"instance_id": "i-1", "mode": "terminate", "wait": time.Minute,
			"ids": []any{"i-2", 3, true}, "tags": map[string]any{"k": 1}, "token": "s3cret", "any": []any{1}},
			sample{ID: "i-1", Mode: "terminate", Wait: time.Minute, Port: 22, Sudo: true, IDs: []string{"i-2", "3", "true"},
				Tags: map[string]any{"k": 1}, Token: "s3cret", Any: []any{1}}},
		{"nested map with its own default", engine.Params{"instance_id": "i-1", "jump": map[string]any{"host": "bastion"}},
			sample{ID: "i-1", Mode: "stop", Wait: 2 * time.Hour, Port: 22, Sudo: true, IDs: []string{}, Jump: &hop{Host: "bastion", Port: 22}}},
		{"an empty nested map is not given", engine.Params{"instance_id": "i-1", "jump": map[string]any{}},
			sample{ID: "i-1", Mode: "stop", Wait: 2 * time.Hour, Port: 22, Sudo: true, IDs: []string{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := engine.Decode[sample](tt.in)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decode:\ngot  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   engine.Params
		want string
	}{
		{"required", engine.Params{}, `parameter "instance_id" is required but has no value`},
		{"required null", engine.Params{"instance_id": nil}, `parameter "instance_id" is required but has no value`},
		{"enum", engine.Params{"instance_id": "i", "mode": "reboot"}, `parameter "mode": string "reboot" is not one of "stop", "terminate"`},
		{"wrong type", engine.Params{"instance_id": "i", "port": []any{1}}, `parameter "port": want int, got list`},
		{"not a duration", engine.Params{"instance_id": "i", "wait": "soon"}, `parameter "wait": want duration, got string "soon"`},
		{"not an integer", engine.Params{"instance_id": "i", "size": 1.5}, `parameter "size": want int, got number 1.5`},
		{"map for a list", engine.Params{"instance_id": "i", "ids": map[string]any{}}, `parameter "ids": want list, got map`},
		{"nested list item", engine.Params{"instance_id": "i", "ids": []any{"a", []any{"b"}}}, `ids[1] is list: each item must be a string`},
		{"bad int item", engine.Params{"instance_id": "i", "codes": []any{"x"}}, `codes[0]: want int, got string "x"`},
		{"secret not shown", engine.Params{"instance_id": "i", "token": []any{"s3cret"}}, `secret parameter "token": the value is not a valid string (not shown)`},
		{"unknown", engine.Params{"instance_id": "i", "mdoe": "stop"},
			`unknown parameter "mdoe": the parameters are instance_id, region, mode, wait, port, size, sudo, token, ids, codes, raw, tags, jump, any`},
		{"nested unknown key", engine.Params{"instance_id": "i", "jump": map[string]any{"host": "b", "hots": 1}}, `jump has unknown key "hots": use host, port, pass_env`},
		{"nested required", engine.Params{"instance_id": "i", "jump": map[string]any{"port": 2}}, `parameter "jump.host" is required but has no value`},
		{"nested wrong type", engine.Params{"instance_id": "i", "jump": map[string]any{"host": "b", "port": "x"}}, `parameter "jump.port": want int, got string "x"`},
		{"nested not a map", engine.Params{"instance_id": "i", "jump": "bastion"}, `parameter "jump": want map, got string "bastion"`},
		{"every problem at once", engine.Params{"mode": "x", "port": "y"},
			"parameter \"instance_id\" is required but has no value\nparameter \"mode\": string \"x\" is not one of \"stop\", \"terminate\"\nparameter \"port\": want int, got string \"y\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := engine.Decode[sample](tt.in)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Decode error:\ngot  %v\nwant %s", err, tt.want)
			}
			if !reflect.DeepEqual(got, sample{}) {
				t.Errorf("Decode gave %+v with its error, want the zero value", got)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error shows a secret value: %v", err)
			}
		})
	}
}

// TestDecodeDefaultsAreNotShared: a caller that changes a decoded default
// list does not change the next caller's.
func TestDecodeDefaultsAreNotShared(t *testing.T) {
	t.Parallel()
	type withList struct {
		L []any `param:"l" default:"a,b"`
	}
	first, err := engine.Decode[withList](nil)
	if err != nil {
		t.Fatal(err)
	}
	first.L[0] = "changed"
	second, _ := engine.Decode[withList](nil)
	if !reflect.DeepEqual(second.L, []any{"a", "b"}) {
		t.Errorf("second decode: got %v, want [a b]", second.L)
	}
}

type (
	noTag struct {
		A string
	}
	unexported struct {
		//lint:ignore U1000 an unexported field with a tag is the mistake this case tests
		a string `param:"a"`
	}
	badName struct {
		A string `param:"Instance-ID"`
	}
	twice struct {
		A string `param:"a"`
		B string `param:"a"`
	}
	badFlag struct {
		A string `param:"a,optional"`
	}
	badType struct {
		A float64 `param:"a"`
	}
	badMapType struct {
		A map[int]string `param:"a"`
	}
	badDefault struct {
		A int `param:"a" default:"many"`
	}
	badDuration struct {
		A time.Duration `param:"a" default:"2 hours"`
	}
	defaultNotInEnum struct {
		A string `param:"a" default:"kill" enum:"stop,terminate"`
	}
	enumNotString struct {
		A int `param:"a" enum:"1,2"`
	}
	requiredWithDefault struct {
		A string `param:"a,required" default:"x"`
	}
	mapDefault struct {
		A map[string]any `param:"a" default:"x"`
	}
	badNested struct {
		A *noTag `param:"a"`
	}
	nestedListDefault struct {
		A []int `param:"a" default:"1,x"`
	}
)

// TestBadDeclarationPanics: every mistake in a declaration stops the
// program at registration, naming the type, the field and the mistake.
func TestBadDeclarationPanics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		specs func() []engine.Param
		want  string
	}{
		{"no tag", engine.ParamsOf[noTag], `engine: parameters of engine_test.noTag: field A: no param tag (param:"-" for a field the action fills itself)`},
		{"unexported", engine.ParamsOf[unexported], "field a: the field is not exported"},
		{"bad name", engine.ParamsOf[badName], `field A: parameter name "Instance-ID": want lower case letters, digits and _`},
		{"twice", engine.ParamsOf[twice], `field B: parameter "a" is declared twice`},
		{"bad flag", engine.ParamsOf[badFlag], `field A: unknown flag "optional" in param tag (want required, secret or secretenv)`},
		{"bad type", engine.ParamsOf[badType], "field A: field type float64 has no parameter type"},
		{"bad map type", engine.ParamsOf[badMapType], "field A: field type map[int]string has no parameter type"},
		{"bad default", engine.ParamsOf[badDefault], `field A: default "many": want int, got string "many"`},
		{"bad duration", engine.ParamsOf[badDuration], `field A: default "2 hours": want duration, got string "2 hours"`},
		{"default not in enum", engine.ParamsOf[defaultNotInEnum], `field A: default "kill" is not one of the enum ["stop" "terminate"]`},
		{"enum on an int", engine.ParamsOf[enumNotString], "field A: enum needs a string field and at least one value"},
		{"required with default", engine.ParamsOf[requiredWithDefault], "field A: a required parameter cannot have a default"},
		{"map default", engine.ParamsOf[mapDefault], "field A: a map parameter cannot have a default"},
		{"bad nested", engine.ParamsOf[badNested], "engine: parameters of engine_test.noTag: field A: no param tag"},
		{"bad list default", engine.ParamsOf[nestedListDefault], `field A: default "1,x": a[1]: want int, got string "x"`},
		{"not a struct", engine.ParamsOf[string], "engine: parameters of string: want a struct type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := panicOf(func() { tt.specs() })
			if !strings.Contains(got, tt.want) {
				t.Errorf("panic: got %q, want it to hold %q", got, tt.want)
			}
		})
	}
}

// declared is an action whose spec is built from a declaration, as real
// actions build theirs.
type declared[T any] struct{}

func (declared[T]) Spec() engine.ActionSpec {
	return engine.ActionSpec{Name: "declared", Params: engine.ParamsOf[T]()}
}
func (declared[T]) Run(context.Context, *engine.StepInput) (engine.Outputs, error) { return nil, nil }

func TestRegisterPanicsOnBadDeclaration(t *testing.T) {
	t.Parallel()
	got := panicOf(func() { engine.NewRegistry().Register(declared[badDefault]{}) })
	if want := `engine: parameters of engine_test.badDefault: field A: default "many": want int, got string "many"`; got != want {
		t.Errorf("Register panic: got %q, want %q", got, want)
	}
	got = panicOf(func() { engine.NewRegistry().Register(twoOfOneName{}) })
	if want := `engine: Register: action "two" declares parameter "a" twice`; got != want {
		t.Errorf("Register panic: got %q, want %q", got, want)
	}
	if got := panicOf(func() { engine.NewRegistry().Register(declared[sample]{}) }); got != "" {
		t.Errorf("Register of a good declaration panicked: %s", got)
	}
}

// twoOfOneName is a hand-written spec with a duplicate parameter.
type twoOfOneName struct{}

func (twoOfOneName) Spec() engine.ActionSpec {
	return engine.ActionSpec{Name: "two", Params: []engine.Param{{Name: "a", Type: engine.TypeString}, {Name: "a", Type: engine.TypeInt}}}
}
func (twoOfOneName) Run(context.Context, *engine.StepInput) (engine.Outputs, error) { return nil, nil }

func panicOf(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = r.(string)
		}
	}()
	f()
	return ""
}

// TestDecodeKnown: a planner decodes what is known before the run; a value
// known only at run time takes its default in the meantime.
func TestDecodeKnown(t *testing.T) {
	t.Parallel()
	p := engine.Params{"instance_id": "i-1", "port": engine.Unknown{Expr: "inputs.port"}, "mode": "terminate"}
	if _, err := engine.Decode[sample](p); err == nil || !strings.Contains(err.Error(), `parameter "port": want int, got engine.Unknown`) {
		t.Errorf("Decode of an Unknown: got %v, want a type error", err)
	}
	got, err := engine.Decode[sample](p.Known())
	if err != nil || got.Port != 22 || got.Mode != "terminate" || got.ID != "i-1" {
		t.Errorf("Decode(Known()): got %+v, %v; want port 22 (the default), mode terminate, i-1", got, err)
	}
	if _, still := p["port"]; !still {
		t.Errorf("Known changed the params it was called on")
	}
}
