package cli

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/firebreak-ir/firebreak/actions/memory"
	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
)

// headline is one output a responder acts on after a run (an output its
// action declares Headline): the isolation group, the snapshot ids, the
// memory image's hash, size and place, the key disabled.
type headline struct {
	Step  string `json:"step"`
	Item  int    `json:"item"` // the for_each item's index, -1 for the step
	Name  string `json:"name"`
	Value any    `json:"value"`
}

// headlines picks the headline outputs of every step that gave outputs,
// in the playbook's order, the items of a for_each step each on its own.
func headlines(reg *engine.Registry, steps []engine.StepRecord) []headline {
	var out []headline
	for _, s := range steps {
		act, ok := reg.Lookup(s.Action)
		if !ok {
			continue
		}
		spec := act.Spec()
		out = append(out, pick(spec, s.ID, -1, s.Outputs)...)
		for i, it := range s.Items {
			out = append(out, pick(spec, s.ID, i, it.Outputs)...)
		}
	}
	return out
}

func pick(spec engine.ActionSpec, step string, item int, outs engine.Outputs) []headline {
	var picked []headline
	for _, o := range spec.Outputs {
		v, ok := outs[o.Name]
		if !o.Headline || !ok || empty(v) {
			continue
		}
		picked = append(picked, headline{Step: step, Item: item, Name: o.Name, Value: v})
	}
	return picked
}

// empty reports a value with nothing to say: "", null, [] or {}. false and
// 0 say something (complete: false).
func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// writeHeadlines prints the headlines under the step table.
func writeHeadlines(w io.Writer, hs []headline) {
	if len(hs) == 0 {
		return
	}
	fmt.Fprintln(w, "\nwhat changed and what was kept:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	last := ""
	for _, h := range hs {
		name := h.Step
		if h.Item >= 0 {
			name = fmt.Sprintf("%s[%d]", h.Step, h.Item)
		}
		shown := name
		if name == last {
			shown = "" // one step's outputs under its name once
		}
		last = name
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", shown, h.Name, showOutput(h.Name, h.Value))
	}
	tw.Flush()
}

// headlineMax bounds one value shown: the whole is in the manifest.
const headlineMax = 240

// showOutput formats an output for a person: lists comma-joined, maps as
// key: value, a size in bytes with its human form, control characters
// escaped (outputs can come from a hostile host).
func showOutput(name string, v any) string {
	s := showValue(v)
	if n, ok := number(v); ok && (name == "size" || strings.HasSuffix(name, "_size")) && n >= 1024 {
		s += " (" + memory.HumanBytes(n) + ")"
	}
	return clip(s, headlineMax)
}

func showValue(v any) string {
	switch x := v.(type) {
	case string:
		return printable(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64) // not 4.294967296e+09
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = showValue(e)
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = printable(k) + ": " + showValue(x[k])
		}
		return strings.Join(parts, ", ")
	}
	return printable(fmt.Sprint(v))
}

// number is an integer output, as an action gave it or as it came back
// from the journal (float64).
func number(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case float64:
		return int64(x), x == float64(int64(x))
	}
	return 0, false
}

// printable escapes control characters, so a value cannot move the
// cursor or rewrite what the terminal shows: evidence.Printable, the one
// escaping every command uses for what it did not write itself.
func printable(s string) string { return evidence.Printable(s) }
