package findings

import (
	"path"

	"github.com/firebreak-ir/firebreak/engine/loader"
)

// Coverage is one family of GuardDuty finding types and what answers it.
type Coverage struct {
	Family string `json:"family"`
	Types  int    `json:"types"`
	// Playbooks are those whose findings: globs match a type of the
	// family, with how many types each matches.
	Playbooks []PlaybookCover `json:"playbooks"`
	Covered   int             `json:"covered"`
	// Uncovered are the types no playbook matches, each with the gap
	// that says why ("" when none says).
	Uncovered []UncoveredType `json:"uncovered"`
}

// PlaybookCover is how many of a family's types a playbook's globs match.
type PlaybookCover struct {
	Name  string `json:"name"`
	Types int    `json:"types"`
}

// UncoveredType is a type no playbook answers, and why: the gap whose
// glob matches it.
type UncoveredType struct {
	Type string `json:"type"`
	Glob string `json:"gap"`
	Why  string `json:"why"`
}

// CoverageOf matches every type of GuardDutyFamilies against the entries'
// findings: globs. It says what the globs claim; whether a finding also
// gives a playbook its inputs (a runtime finding on a container names no
// instance) is Answers' to say, per finding.
func CoverageOf(entries []loader.Entry) []Coverage {
	out := make([]Coverage, 0, len(GuardDutyFamilies))
	for _, fam := range GuardDutyFamilies {
		c := Coverage{Family: fam.Name, Types: len(fam.Types), Playbooks: []PlaybookCover{}, Uncovered: []UncoveredType{}}
		counts := map[string]int{}
		for _, typ := range fam.Types {
			covered := false
			for _, e := range entries {
				if MatchType(e.Findings, typ) {
					if counts[e.Name] == 0 {
						c.Playbooks = append(c.Playbooks, PlaybookCover{Name: e.Name})
					}
					counts[e.Name]++
					covered = true
				}
			}
			if covered {
				c.Covered++
			} else {
				g := gapOf(fam, typ)
				c.Uncovered = append(c.Uncovered, UncoveredType{Type: typ, Glob: g.Glob, Why: g.Why})
			}
		}
		for i := range c.Playbooks {
			c.Playbooks[i].Types = counts[c.Playbooks[i].Name]
		}
		out = append(out, c)
	}
	return out
}

func gapOf(f Family, typ string) Gap {
	for _, g := range f.Gaps {
		if ok, _ := path.Match(g.Glob, typ); ok {
			return g
		}
	}
	return Gap{}
}
