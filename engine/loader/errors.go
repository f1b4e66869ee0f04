package loader

import (
	"cmp"
	"slices"
	"strings"

	"github.com/firebreak-ir/firebreak/engine"
)

// Error is one problem in a playbook, at its place in the file.
type Error struct {
	Pos engine.Pos
	Msg string
	// Err is the cause when there is one worth testing with errors.Is
	// (engine.ErrCycle); it is already part of Msg.
	Err error
}

func (e *Error) Error() string {
	if e.Pos.File == "" && e.Pos.Line == 0 {
		return e.Msg
	}
	return e.Pos.String() + ": " + e.Msg
}

// Unwrap returns the cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Errors are every problem found in one load, sorted by position. Error()
// prints one "file:line:col: msg" a line.
type Errors struct {
	List []*Error
}

func (e *Errors) Error() string {
	lines := make([]string, len(e.List))
	for i, x := range e.List {
		lines[i] = x.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.Is and errors.As look at each problem.
func (e *Errors) Unwrap() []error {
	out := make([]error, len(e.List))
	for i, x := range e.List {
		out[i] = x
	}
	return out
}

// sortErrors orders by line, column, then message, and drops exact
// repeats (an alias can make one problem appear many times).
func sortErrors(list []*Error) []*Error {
	slices.SortStableFunc(list, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col), strings.Compare(a.Msg, b.Msg))
	})
	return slices.CompactFunc(list, func(a, b *Error) bool { return a.Pos == b.Pos && a.Msg == b.Msg })
}

// suggest returns ` (did you mean "x"?)` for the candidate closest to
// word, or "" when none is close enough to be a likely typo.
func suggest(word string, candidates []string) string {
	if len(word) > 64 {
		return "" // no typo is that long, and the distance is quadratic
	}
	best, bestD := "", -1
	limit := max(2, len([]rune(word))/3)
	for _, c := range candidates {
		if len(c) > len(word)+limit && !strings.HasPrefix(c, word) {
			continue // too long to be within limit, and the distance is quadratic
		}
		lw, lc := strings.ToLower(word), strings.ToLower(c)
		d := levenshtein(lw, lc)
		if len(lw) >= 3 && len(lc) >= 3 && (strings.HasPrefix(lc, lw) || strings.HasPrefix(lw, lc)) {
			d = min(d, 1) // a name cut short or run on is a typo too
		}
		if d < bestD || bestD < 0 {
			best, bestD = c, d
		}
	}
	if bestD < 0 || bestD > limit || bestD >= len([]rune(word)) {
		return ""
	}
	return ` (did you mean "` + best + `"?)`
}

// levenshtein is the edit distance between a and b, in runes.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// hint is suggest for the decoder: it stops suggesting once enough
// problems are found, so a hostile file with a million typos stays cheap.
func (d *decoder) hint(word string, candidates ...[]string) string {
	if len(d.errs) >= maxErrors {
		return ""
	}
	var all []string
	for _, c := range candidates {
		all = append(all, c...)
	}
	return suggest(word, all)
}
