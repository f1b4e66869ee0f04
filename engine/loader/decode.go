package loader

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/firebreak-ir/firebreak/engine"
)

// Limits that keep a hostile file from exhausting memory or time. A real
// playbook is a few kilobytes and a few hundred nodes.
const (
	// MaxSize is the largest playbook file the loader reads.
	MaxSize = 4 << 20
	// maxNodes bounds the YAML nodes visited, aliases counted each time
	// they are followed, so an alias bomb stops early.
	maxNodes = 200_000
	// maxExpanded bounds the bytes of the scalars visited, aliases counted
	// each time they are followed: a large string aliased thousands of
	// times is a few nodes, and gigabytes once expanded.
	maxExpanded = 2 * MaxSize
	// MaxInputsBytes bounds a run's inputs (JSON, all together): they are
	// written whole into the journal's header, the case's custody header
	// and its manifest.
	MaxInputsBytes = 1 << 20
	// maxDepth bounds the nesting of values.
	maxDepth = 64
	// maxSteps bounds each of steps and finally: some checks are
	// quadratic in the number of steps.
	maxSteps = 2000
	// maxErrors bounds the problems reported; a file that far off is
	// not a playbook.
	maxErrors = 100
)

// decoder walks the YAML nodes of one file, collecting every problem.
type decoder struct {
	file   string
	lines  []string
	errs   []*Error
	budget int
	bytes  int    // what the scalars visited may still expand to
	limit  int    // bytes at the start, for the message
	spent  bool   // the node or byte budget ran out (reported once)
	what   string // "the playbook", "the inputs file": for budget errors
}

func newDecoder(file string, data []byte) *decoder {
	return &decoder{file: file, lines: strings.Split(string(data), "\n"), budget: maxNodes, bytes: maxExpanded, limit: maxExpanded, what: "the playbook"}
}

func (d *decoder) pos(n *yaml.Node) engine.Pos {
	if n == nil {
		return engine.Pos{File: d.file}
	}
	return engine.Pos{File: d.file, Line: n.Line, Col: n.Column}
}

func (d *decoder) errAt(p engine.Pos, format string, args ...any) {
	d.errs = append(d.errs, &Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) errf(n *yaml.Node, format string, args ...any) {
	d.errAt(d.pos(n), format, args...)
}

// deref follows an alias to what it names and charges the node budget.
// It returns nil once the budget is spent, which callers treat as null.
func (d *decoder) deref(n *yaml.Node) *yaml.Node {
	at := n // an alias is reported where it is used
	for hops := 0; n != nil && n.Kind == yaml.AliasNode; hops++ {
		if hops > 100 {
			return nil
		}
		n = n.Alias
	}
	if n == nil {
		return nil
	}
	if d.budget--; d.budget < 0 {
		if !d.spent {
			d.spent = true
			d.errf(at, "%s is too large or expands too many aliases (more than %d values): simplify it", d.what, maxNodes)
		}
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		if d.bytes -= len(n.Value); d.bytes < 0 {
			if !d.spent {
				d.spent = true
				d.errf(at, "%s expands to more than %d bytes (an alias repeats a large value): simplify it", d.what, d.limit)
			}
			d.budget = -1 // nothing more is read
			return nil
		}
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names a node's type the way an error message should.
func describe(n *yaml.Node) string {
	switch {
	case isNull(n):
		return "null"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.MappingNode:
		return "a map"
	case n.Kind != yaml.ScalarNode:
		return "an alias"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:40] + "..."
	}
	switch n.Tag {
	case "!!int":
		return "int " + v
	case "!!float":
		return "number " + v
	case "!!bool":
		return "bool " + v
	}
	return "string " + strconv.Quote(v)
}

// field is one key of a mapping that the caller knows.
type field struct {
	name     string
	key, val *yaml.Node
}

// fields checks that n is a map and returns its entries in order. With
// known set, keys outside it are reported with a suggestion; keys must be
// scalars and appear once. A null n gives no fields.
func (d *decoder) fields(n *yaml.Node, what string, known []string) []field {
	if n = d.deref(n); isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.errf(n, "%s must be a map, got %s", what, describe(n))
		return nil
	}
	var out []field
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := d.deref(n.Content[i])
		if k == nil {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errf(k, "keys in %s must be names, got %s", what, describe(k))
			continue
		}
		if k.Value == "<<" && k.Tag == "!!merge" {
			d.errf(k, "merge keys (<<) are not supported: write the fields out")
			continue
		}
		if line, dup := seen[k.Value]; dup {
			d.errf(k, "%q is given twice in %s (first at line %d): keep one", k.Value, what, line)
			continue
		}
		seen[k.Value] = k.Line
		if known != nil && !contains(known, k.Value) {
			d.errf(k, "unknown field %q in %s%s", k.Value, what, d.hint(k.Value, known))
			continue
		}
		out = append(out, field{name: k.Value, key: k, val: n.Content[i+1]})
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// scalar returns the scalar behind f, or nil (after reporting) when it is
// a list or a map; null gives nil silently.
func (d *decoder) scalar(f field, want string) *yaml.Node {
	n := d.deref(f.val)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		d.errf(n, "%s must be %s, got %s", f.name, want, describe(n))
		return nil
	}
	return n
}

// str reads a text field. Numbers and bools are taken as written
// (version: 1.2 is "1.2").
func (d *decoder) str(f field) (string, *yaml.Node) {
	n := d.scalar(f, "a string")
	if n == nil {
		return "", nil
	}
	return n.Value, n
}

func (d *decoder) int(f field, least int) (int, bool) {
	n := d.scalar(f, "an int")
	if n == nil {
		return 0, false
	}
	var v int
	if n.Tag != "!!int" || n.Decode(&v) != nil {
		d.errf(n, "%s must be an int, got %s", f.name, describe(n))
		return 0, false
	}
	if v < least {
		d.errf(n, "%s must be at least %d, got %d", f.name, least, v)
		return 0, false
	}
	return v, true
}

func (d *decoder) bool(f field) (bool, bool) {
	n := d.scalar(f, "true or false")
	if n == nil {
		return false, false
	}
	var v bool
	if n.Tag != "!!bool" || n.Decode(&v) != nil {
		d.errf(n, "%s must be true or false, got %s", f.name, describe(n))
		return false, false
	}
	return v, true
}

func (d *decoder) duration(f field) (time.Duration, bool) {
	n := d.scalar(f, "a duration")
	if n == nil {
		return 0, false
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil || n.Tag != "!!str" {
		d.errf(n, "bad duration %q for %s: write it like 90s, 10m or 1h30m", n.Value, f.name)
		return 0, false
	}
	if v <= 0 {
		d.errf(n, "%s must be longer than zero, got %q", f.name, n.Value)
		return 0, false
	}
	return v, true
}

func (d *decoder) float(f field) (float64, bool) {
	n := d.scalar(f, "a number")
	if n == nil {
		return 0, false
	}
	var v float64
	if (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&v) != nil {
		d.errf(n, "%s must be a number, got %s", f.name, describe(n))
		return 0, false
	}
	return v, true
}

// strList reads a list of strings; a single string is a list of one.
func (d *decoder) strList(f field, want string) []*yaml.Node {
	n := d.deref(f.val)
	switch {
	case isNull(n):
		return nil
	case n.Kind == yaml.ScalarNode && n.Tag == "!!str":
		return []*yaml.Node{n}
	case n.Kind != yaml.SequenceNode:
		d.errf(n, "%s must be a list of %s, got %s", f.name, want, describe(n))
		return nil
	}
	var out []*yaml.Node
	for _, it := range n.Content {
		it = d.deref(it)
		if it == nil {
			continue
		}
		if it.Kind != yaml.ScalarNode || it.Tag != "!!str" {
			d.errf(it, "%s must be a list of %s, got %s in it", f.name, want, describe(it))
			continue
		}
		out = append(out, it)
	}
	return out
}
