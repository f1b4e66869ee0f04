package loader

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/firebreak-ir/firebreak/engine"
)

// site is one compiled expression and where its source lies: byte Off
// into the string value of node N.
type site struct {
	E   *engine.Expr
	N   *yaml.Node
	Off int
}

// plain converts a node to the Go value a YAML decoder would give
// (string, int, float64, bool, nil, []any, map[string]any), or reports
// why it cannot. Aliases are followed within the node budget.
func (d *decoder) plain(n *yaml.Node, depth int) (any, bool) {
	if n = d.deref(n); n == nil {
		return nil, true
	}
	if depth > maxDepth {
		d.errf(n, "value nested more than %d deep: flatten it", maxDepth)
		return nil, false
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return scalarValue(n), true
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		ok := true
		for _, it := range n.Content {
			v, good := d.plain(it, depth+1)
			ok = ok && good
			out = append(out, v)
		}
		return out, ok
	case yaml.MappingNode:
		out := map[string]any{}
		ok := true
		for _, f := range d.fields(n, "a map value", nil) {
			v, good := d.plain(f.val, depth+1)
			ok = ok && good
			out[f.name] = v
		}
		return out, ok
	}
	return nil, true
}

// scalarValue decodes a scalar by its tag. Odd tags (timestamps, custom
// ones) keep the text as written.
func scalarValue(n *yaml.Node) any {
	switch n.Tag {
	case "!!null":
		return nil
	case "!!int", "!!float", "!!bool":
		var v any
		if n.Decode(&v) == nil {
			return v
		}
	}
	return n.Value
}

// compile turns a node into an engine.Value, compiling every ${{ }} in
// its strings and placing compile errors inside the YAML. what names the
// value in messages. Sites of the expressions are appended to *sites.
func (d *decoder) compile(n *yaml.Node, what string, depth int, sites *[]site) (engine.Value, bool) {
	if n = d.deref(n); n == nil {
		return engine.Literal{}, true
	}
	if depth > maxDepth {
		d.errf(n, "value nested more than %d deep: flatten it", maxDepth)
		return nil, false
	}
	switch n.Kind {
	case yaml.SequenceNode:
		items := make([]engine.Value, 0, len(n.Content))
		ok := true
		for _, it := range n.Content {
			v, good := d.compile(it, what, depth+1, sites)
			ok = ok && good
			items = append(items, v)
		}
		return engine.ListValue{Items: items}, ok
	case yaml.MappingNode:
		items := map[string]engine.Value{}
		ok := true
		for _, f := range d.fields(n, what, nil) {
			v, good := d.compile(f.val, what, depth+1, sites)
			ok = ok && good
			items[f.name] = v
		}
		return engine.MapValue{Items: items}, ok
	}
	if n.Tag != "!!str" {
		return engine.Literal{V: scalarValue(n)}, true
	}
	v, err := engine.CompileString(n.Value)
	if err != nil {
		var te *engine.TemplateError
		off := 0
		if errors.As(err, &te) {
			off = te.Offset
		}
		d.exprErr(n, off, n.Value[min(off, len(n.Value)):], what, err)
		return nil, false
	}
	offs := exprOffsets(n.Value)
	for i, e := range v.Exprs() {
		if i < len(offs) {
			*sites = append(*sites, site{E: e, N: n, Off: offs[i]})
		}
	}
	return v, true
}

// exprOffsets returns the byte offsets of the sources of the ${{ }}
// expressions in s, in order, scanning as engine.CompileString does.
func exprOffsets(s string) []int {
	var out []int
	for at := 0; ; {
		i := strings.Index(s[at:], "${{")
		if i < 0 {
			return out
		}
		j := strings.Index(s[at+i+3:], "}}")
		if j < 0 {
			return out
		}
		out = append(out, at+i+3)
		at += i + 3 + j + 2
	}
}

// exprErr reports a compile error of the expression whose source src
// starts at byte off of n's value, at the error's own place when it can.
func (d *decoder) exprErr(n *yaml.Node, off int, src, what string, err error) {
	msg := err.Error()
	var ee *engine.ExprError
	if errors.As(err, &ee) {
		off += byteOffset(src, ee.Line, ee.Col)
		msg = ee.Msg
	}
	d.errAt(d.posIn(n, off), "bad expression in %s: %s%s", what, msg, dashHint(src))
}

var dashedStep = regexp.MustCompile(`steps\.([a-z0-9]+(?:-[a-z0-9]+)+)`)

// dashHint explains the usual cause of "unknown name" in steps.my-step:
// expr-lang reads the dash as a minus.
func dashHint(src string) string {
	m := dashedStep.FindStringSubmatch(src)
	if m == nil {
		return ""
	}
	return fmt.Sprintf(` (a dash is a minus here: write steps["%s"])`, m[1])
}

// byteOffset is the byte offset of line:col (1-based, col in runes) in src.
func byteOffset(src string, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(src[off:], '\n')
		if i < 0 {
			return off
		}
		off += i + 1
	}
	for c := 1; c < col && off < len(src); c++ {
		_, size := utf8.DecodeRuneInString(src[off:])
		off += size
	}
	return off
}

// posIn is the place in the file of byte off of n's value. It is exact for
// plain and quoted scalars written on one line without escapes (it checks
// the raw line), and the scalar's start otherwise.
func (d *decoder) posIn(n *yaml.Node, off int) engine.Pos {
	p := d.pos(n)
	if off < 0 || off > len(n.Value) || n.Line < 1 || n.Line > len(d.lines) {
		return p
	}
	line := d.lines[n.Line-1]
	start := byteOffset(line, 1, n.Column)
	src, val := line[start:], n.Value
	quote := ""
	switch n.Style {
	case 0:
	case yaml.SingleQuotedStyle:
		quote = "'"
		val = strings.ReplaceAll(val, "'", "''")
		off += strings.Count(n.Value[:off], "'")
	case yaml.DoubleQuotedStyle:
		quote = `"`
	default:
		return p
	}
	if !strings.HasPrefix(src, quote+val+quote) {
		return p
	}
	p.Col = n.Column + utf8.RuneCountInString(src[:len(quote)+off])
	return p
}
