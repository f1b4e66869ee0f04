package engine

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// An action declares its parameters once, as a struct whose field tags say
// each parameter's name, default, enum, doc and secrecy; the field's Go type
// gives the parameter's type. ParamsOf reads the struct for ActionSpec.Params
// (so the loader, the runner, plan and `firebreak actions` see it), and
// Decode fills the struct from StepInput.Params. A default or an enum is
// therefore written in one place, the tag.
//
//	type isolateParams struct {
//		InstanceID string        `param:"instance_id,required" doc:"the instance to isolate"`
//		Mode       string        `param:"mode" default:"stop" enum:"stop,terminate"`
//		Wait       time.Duration `param:"wait" default:"2h"`
//		Token      string        `param:"token,secret"`
//	}
//
// The tags:
//
//	param:"name[,required][,secret][,secretenv]"  the parameter's name and flags (secretenv: the value names an
//	                                  environment variable holding a secret); param:"-" leaves the field to the action
//	default:"90s"                     the default as a playbook would write it; default:"" is an empty default, no tag is none
//	enum:"a,b"                        the values a string parameter may take
//	doc:"..."                         what `firebreak actions NAME` says about it
//
// The field types and the parameter types they declare: string (string),
// bool (bool), int and int64 (int), time.Duration (duration), []string,
// []int and []any (list), map[string]any (map), any (any), and a pointer to
// a struct declared the same way (map, decoded key by key: unknown keys are
// refused; nil when the map is absent, null or empty).
//
// An embedded struct field without a param tag is inlined: its parameters
// are the outer struct's, in its place. Parameters shared by several actions
// (the SSH connection of capture-memory and analyze-disk) are declared once
// that way.

// ParamsOf returns the parameters the struct T declares, in field order, for
// ActionSpec.Params. Each call returns a fresh slice.
//
// It panics, naming T and the field, on a wrong declaration: a field without
// a param tag, a bad or duplicate name, an unknown flag, a field type with no
// parameter type, a default that does not parse or is not in the enum, an
// enum on a field that is not a string, a required parameter with a default.
// Spec is called by Registry.Register, so such a mistake stops the program
// at start-up, before any playbook runs.
func ParamsOf[T any]() []Param {
	d := declOf(reflect.TypeFor[T]())
	return d.params()
}

// params is the declaration as ActionSpec.Params holds it.
func (d *paramDecl) params() []Param {
	out := make([]Param, len(d.fields))
	for i, f := range d.fields {
		out[i] = f.Param
		out[i].Enum = slices.Clone(f.Enum)
		if f.nested != nil {
			out[i].fields = f.nested.params()
		}
	}
	return out
}

// Decode fills a T (declared as ParamsOf says) from p: each value is
// coerced to its parameter's type (as Coerce does), checked against its
// enum, and a missing or null one takes its default. A required parameter
// without a value, a key T does not declare, a value of the wrong type or
// outside the enum is an error; every problem is reported, joined, in field
// order. A secret parameter's value is never quoted in an error.
//
// The runner has coerced and defaulted StepInput.Params already; Decode
// still checks, so an action called directly (a test, another caller) gets
// the same guarantees. It is safe for concurrent use.
func Decode[T any](p Params) (T, error) {
	var out T
	d := declOf(reflect.TypeFor[T]())
	if err := d.decode(reflect.ValueOf(&out).Elem(), p, ""); err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// paramDecl is a struct type's declaration, read once.
type paramDecl struct {
	typ    reflect.Type
	fields []paramField
	names  []string // declared names, in field order, for messages
}

// paramField is one declared parameter and where it goes.
type paramField struct {
	Param
	index  []int        // the struct field (a path through inlined embedded structs)
	def    any          // the default, coerced to Type, when hasDef
	hasDef bool         // a default tag was given (default:"" counts)
	nested *paramDecl   // for a pointer-to-struct field
	ftype  reflect.Type // the field's Go type
}

var (
	declCache    sync.Map // reflect.Type -> *paramDecl
	durationType = reflect.TypeFor[time.Duration]()
	paramName    = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// declOf returns t's declaration, reading it on first use.
func declOf(t reflect.Type) *paramDecl {
	if d, ok := declCache.Load(t); ok {
		return d.(*paramDecl)
	}
	d := readDecl(t)
	actual, _ := declCache.LoadOrStore(t, d)
	return actual.(*paramDecl)
}

func readDecl(t reflect.Type) *paramDecl {
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("engine: parameters of %s: want a struct type", t))
	}
	d := &paramDecl{typ: t}
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("param")
		if !ok && sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			d.inline(t, sf)
			continue
		}
		if !ok {
			declPanic(t, sf, "no param tag (param:\"-\" for a field the action fills itself)")
		}
		if tag == "-" {
			continue
		}
		f := readField(t, sf, tag)
		f.index = []int{i}
		d.add(t, sf, f)
	}
	return d
}

// inline adds the parameters of the embedded struct sf, as if declared here.
func (d *paramDecl) inline(t reflect.Type, sf reflect.StructField) {
	// An unexported embedded struct is fine: its exported fields are
	// promoted and settable, as encoding/json fills them.
	for _, f := range declOf(sf.Type).fields {
		f.index = append([]int{sf.Index[0]}, f.index...)
		d.add(t, sf, f)
	}
}

func (d *paramDecl) add(t reflect.Type, sf reflect.StructField, f paramField) {
	if slices.Contains(d.names, f.Name) {
		declPanic(t, sf, fmt.Sprintf("parameter %q is declared twice", f.Name))
	}
	d.fields = append(d.fields, f)
	d.names = append(d.names, f.Name)
}

// readField reads one field's tags; every mistake panics.
func readField(t reflect.Type, sf reflect.StructField, tag string) paramField {
	if !sf.IsExported() {
		declPanic(t, sf, "the field is not exported, so it cannot be filled")
	}
	name, flags, _ := strings.Cut(tag, ",")
	if !paramName.MatchString(name) {
		declPanic(t, sf, fmt.Sprintf("parameter name %q: want lower case letters, digits and _", name))
	}
	f := paramField{Param: Param{Name: name, Doc: sf.Tag.Get("doc")}, ftype: sf.Type}
	for _, fl := range strings.Split(flags, ",") {
		switch fl {
		case "":
		case "required":
			f.Required = true
		case "secret":
			f.Secret = true
		case "secretenv":
			if sf.Type.Kind() != reflect.String {
				declPanic(t, sf, "secretenv needs a string field: the name of an environment variable")
			}
			f.SecretEnv = true
		default:
			declPanic(t, sf, fmt.Sprintf("unknown flag %q in param tag (want required, secret or secretenv)", fl))
		}
	}
	typ, ok := paramType(sf.Type)
	if !ok {
		declPanic(t, sf, fmt.Sprintf("field type %s has no parameter type", sf.Type))
	}
	f.Type = typ
	if typ == TypeMap && sf.Type.Kind() == reflect.Pointer {
		f.nested = declOf(sf.Type.Elem())
	}
	if enum, ok := sf.Tag.Lookup("enum"); ok {
		if typ != TypeString || enum == "" {
			declPanic(t, sf, "enum needs a string field and at least one value")
		}
		f.Enum = strings.Split(enum, ",")
	}
	if def, ok := sf.Tag.Lookup("default"); ok {
		readDefault(t, sf, &f, def)
	}
	return f
}

// readDefault parses the default as a playbook value would be. The spec
// keeps a duration's default as written ("2h", not "2h0m0s"), which is what
// `firebreak actions` shows and what a playbook author would type.
func readDefault(t reflect.Type, sf reflect.StructField, f *paramField, def string) {
	if f.Required {
		declPanic(t, sf, "a required parameter cannot have a default")
	}
	if f.Type == TypeMap {
		declPanic(t, sf, "a map parameter cannot have a default")
	}
	c, err := Coerce(f.Type, def)
	if err == nil && f.Type == TypeList {
		err = setList(reflect.New(sf.Type).Elem(), c.([]any), f.Name)
	}
	if err != nil {
		declPanic(t, sf, fmt.Sprintf("default %q: %v", def, err))
	}
	if len(f.Enum) > 0 && !slices.Contains(f.Enum, def) {
		declPanic(t, sf, fmt.Sprintf("default %q is not one of the enum %q", def, f.Enum))
	}
	f.def, f.hasDef, f.Default = c, true, c
	if f.Type == TypeDuration {
		f.Default = def
	}
}

func declPanic(t reflect.Type, sf reflect.StructField, msg string) {
	panic(fmt.Sprintf("engine: parameters of %s: field %s: %s", t, sf.Name, msg))
}

// paramType is the parameter type a field's Go type declares.
func paramType(t reflect.Type) (Type, bool) {
	switch {
	case t == durationType:
		return TypeDuration, true
	case t.Kind() == reflect.String:
		return TypeString, true
	case t.Kind() == reflect.Bool:
		return TypeBool, true
	case t.Kind() == reflect.Int || t.Kind() == reflect.Int64:
		return TypeInt, true
	case t.Kind() == reflect.Slice && (t.Elem().Kind() == reflect.String || t.Elem().Kind() == reflect.Int || isAny(t.Elem())):
		return TypeList, true
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String && isAny(t.Elem()):
		return TypeMap, true
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct:
		return TypeMap, true
	case isAny(t):
		return TypeAny, true
	}
	return "", false
}

func isAny(t reflect.Type) bool { return t.Kind() == reflect.Interface && t.NumMethod() == 0 }
