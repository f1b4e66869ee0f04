package findings

import (
	"path"

	"github.com/firebreak-ir/firebreak/engine/loader"
)

// Match returns the names of the entries whose findings: globs match f's
// type, in the entries' order (Catalog.List sorts them by name). The globs
// are path.Match patterns, as the loader checks them: "*" does not cross
// the "/" between a type's resource and its name. A nil f matches nothing.
func Match(entries []loader.Entry, f *Finding) []string {
	if f == nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if MatchType(e.Findings, f.Type()) {
			out = append(out, e.Name)
		}
	}
	return out
}

// MatchType reports whether typ matches one of globs. A bad glob (the
// loader refuses those) matches nothing.
func MatchType(globs []string, typ string) bool {
	for _, g := range globs {
		if ok, err := path.Match(g, typ); err == nil && ok {
			return true
		}
	}
	return false
}
