package cli

import (
	"fmt"
	"strings"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/findings"
)

// playbookFor chooses the playbook for `run --finding F` given no name:
// the one whose findings: globs match the finding's type and whose inputs
// the finding gives. Several, or none, is exit 2, saying which playbooks
// there are to choose from.
func (st *cliState) playbookFor(reg *engine.Registry, f *findings.Finding) (string, error) {
	cat := st.catalog(reg)
	entries, _ := cat.List() // a broken playbook answers nothing; validate names it
	answers, misfits := findings.Answers(cat, entries, f)
	switch len(answers) {
	case 1:
		st.logf("finding %s answered by playbook %s", printable(f.Type()), answers[0])
		return answers[0], nil
	case 0:
		return "", withCode(exitUsage, noneAnswers(entries, f, misfits))
	}
	return "", usageErrorf("finding %s is answered by %d playbooks: %s; name the one to run: firebreak run NAME --finding FILE",
		printable(f.Type()), len(answers), strings.Join(answers, ", "))
}

// noneAnswers says why no playbook answers f: those whose globs match but
// whose inputs it does not give, and which playbooks take which types.
func noneAnswers(entries []loader.Entry, f *findings.Finding, misfits []findings.Misfit) error {
	lines := []string{fmt.Sprintf("no playbook answers finding %s", printable(f.Type()))}
	for _, m := range misfits {
		lines = append(lines, fmt.Sprintf("  %s matches its type but cannot take its inputs from it (give them with -i and name it): %s",
			m.Name, strings.ReplaceAll(firstLine(m.Err.Error()), "\n", "; ")))
	}
	lines = append(lines, "the playbooks and the finding types they take:")
	for _, e := range entries {
		if len(e.Findings) > 0 {
			lines = append(lines, fmt.Sprintf("  %s: %s", e.Name, strings.Join(e.Findings, ", ")))
		}
	}
	lines = append(lines, "name a playbook to run it anyway with its inputs from -i: firebreak run NAME --finding FILE --force")
	return fmt.Errorf("%s", joinLines(lines))
}

// checkFits refuses a finding given to a playbook whose findings: globs do
// not match its type, and names those that do; --force runs it anyway. A
// playbook that declares no finding types takes any. The refusal is the
// default because choosing by hand in the first hour is where a finding
// meets the wrong playbook (a role's session given to key-compromise),
// and a playbook acts on the resources its inputs name: from the wrong
// finding, the wrong ones, or none.
func (st *cliState) checkFits(reg *engine.Registry, pb *engine.Playbook, f *findings.Finding, force bool) error {
	if f == nil || len(pb.Findings) == 0 || findings.MatchType(pb.Findings, f.Type()) {
		return nil
	}
	if force {
		st.logf("playbook %s does not answer finding %s (its findings: %s); running it anyway (--force)", pb.Name, printable(f.Type()), strings.Join(pb.Findings, ", "))
		return nil
	}
	cat := st.catalog(reg)
	entries, _ := cat.List()
	answers, _ := findings.Answers(cat, entries, f)
	fits := "none does"
	if len(answers) > 0 {
		fits = "those that do: " + strings.Join(answers, ", ")
	}
	return usageErrorf("playbook %s does not answer finding %s (its findings: %s); %s. Run one of them, or give --force to run %s anyway",
		pb.Name, printable(f.Type()), strings.Join(pb.Findings, ", "), fits, pb.Name)
}
