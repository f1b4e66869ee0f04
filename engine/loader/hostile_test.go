package loader

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestHostile feeds inputs too large or too odd to keep as files; each
// must give positioned errors, never a panic or a hang.
func TestHostile(t *testing.T) {
	t.Parallel()
	manySteps := "name: x\nsteps:\n" + strings.Repeat("  - {id: a, action: upload-log}\n", maxSteps+1)
	manyFields := "name: x\nsteps: [{id: a, action: upload-log}]\n"
	for i := range 150 {
		manyFields += fmt.Sprintf("field%d: 1\n", i)
	}
	tests := []struct {
		name, data string
		first      string // the first error line
		last       string // the last one, when it matters
	}{
		{name: "too large", data: "name: x\n" + strings.Repeat("#", MaxSize), first: "h.yaml: the playbook is larger than 4194304 bytes: a playbook should be a few kilobytes"},
		{name: "too many steps", data: manySteps, first: "h.yaml:3:3: steps holds 2001 steps, more than 2000: split the playbook"},
		{name: "too many problems", data: manyFields, first: `h.yaml:3:1: unknown field "field0" in the playbook`, last: "h.yaml: and 50 more problems: fix the ones above first"},
		{name: "deep flow nesting", data: "name: x\nsteps: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n", first: "h.yaml:2:1: yaml syntax: exceeded max depth of 10000"},
		{name: "alias to itself", data: "name: x\nsteps: &s [*s]\n", first: "h.yaml:2:8: a step must be a map with at least id and action, got a list"},
		{name: "binary", data: "\x00\x01\xff\xfe", first: "h.yaml:1:1: yaml syntax: control characters are not allowed"},
		{name: "tab indent", data: "name: x\nsteps:\n\t- id: a\n", first: "h.yaml:3:2: yaml syntax: found character that cannot start any token"},
		{name: "only a scalar", data: "hello", first: `h.yaml:1:1: a playbook must be a map of fields (name, steps, ...), got string "hello"`},
		{name: "null document", data: "~\n", first: "h.yaml:1:1: a playbook must be a map of fields (name, steps, ...), got null"},
		{name: "custom tags", data: "name: !x y\nsteps: !!map {}\n", first: "h.yaml:2:8: steps must be a list of steps, got a map"},
	}
	l := &Loader{Registry: testRegistry()}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := l.LoadBytes("h.yaml", []byte(tt.data))
			var errs *Errors
			if !errors.As(err, &errs) {
				t.Fatalf("got %T %v, want *Errors", err, err)
			}
			lines := strings.Split(err.Error(), "\n")
			if lines[0] != tt.first {
				t.Errorf("first error:\n got %q\nwant %q", lines[0], tt.first)
			}
			if tt.last != "" && lines[len(lines)-1] != tt.last {
				t.Errorf("last error:\n got %q\nwant %q (%d lines)", lines[len(lines)-1], tt.last, len(lines))
			}
		})
	}
}

// TestExprPositions checks that an expression error lands on its column
// in the file for each way of writing a scalar, and on the scalar's start
// where the text of the file differs from the value.
func TestExprPositions(t *testing.T) {
	t.Parallel()
	head := "name: x\ninputs: {a: {}}\nsteps:\n  - id: s\n    action: upload-log\n"
	tests := []struct {
		name, line string
		want       string // line:col of the error
	}{
		{name: "plain when", line: "    when: inputs.a == nope", want: "6:23"},
		{name: "single quoted", line: "    when: 'inputs.a == nope'", want: "6:24"},
		{name: "single quoted with an escaped quote before", line: "    when: 'inputs.a == ''x'' && nope'", want: "6:33"},
		{name: "double quoted", line: `    when: "inputs.a == nope"`, want: "6:24"},
		{name: "double quoted with an escape falls back to the start", line: `    when: "inputs.a == \"x\" && nope"`, want: "6:11"},
		{name: "wrapped in ${{ }}", line: "    when: ${{ inputs.a == nope }}", want: "6:27"},
		{name: "non-ASCII before counts runes", line: `    when: 'inputs.a == "é" && nope'`, want: "6:31"},
		{name: "block scalar falls back to the start", line: "    when: |\n      inputs.a == nope", want: "6:11"},
		{name: "folded plain scalar falls back", line: "    when: inputs.a ==\n      nope", want: "6:11"},
		{name: "unknown step in a reference", line: "    when: inputs.a == '' && steps.zz.status == ''", want: "6:29"},
		{name: "unknown input in a with template", line: "    with: {message: \"hi ${{ inputs.b }}\"}", want: "6:29"},
	}
	l := &Loader{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := l.LoadBytes("p.yaml", []byte(head+tt.line+"\n"))
			if err == nil {
				t.Fatal("no error")
			}
			if got := strings.SplitN(err.Error(), ": ", 2)[0]; got != "p.yaml:"+tt.want {
				t.Errorf("error at %s, want p.yaml:%s (%v)", got, tt.want, err)
			}
		})
	}
}

// TestManyNeeds: a need repeated 100000 times is kept once, without
// quadratic work (the test would time out).
func TestManyNeeds(t *testing.T) {
	t.Parallel()
	data := "name: x\nsteps:\n  - {id: b, action: upload-log}\n  - id: a\n    action: upload-log\n    needs: [" +
		strings.Repeat("b, ", 100000) + "b]\n"
	pb, err := (&Loader{Registry: testRegistry()}).LoadBytes("n.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if got := pb.Steps[1].Needs; len(got) != 1 || got[0] != "b" {
		t.Errorf("needs = %d entries, want [b]", len(got))
	}
}
