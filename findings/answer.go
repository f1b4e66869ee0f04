package findings

import (
	"github.com/firebreak-ir/firebreak/engine/loader"
)

// Misfit is a playbook whose findings: globs match a finding's type but
// which cannot take its inputs from the finding alone: key-compromise for
// an assumed role's temporary key, role-compromise for an IAM user's, an
// instance playbook for a runtime finding on a container.
type Misfit struct {
	Name string
	Err  error // why, from loader.ResolveInputs
}

// Answers returns, in the entries' order, the playbooks that answer f:
// their globs match its type and every input resolves from the finding
// (given nothing else); and the misfits, whose globs match but whose
// inputs do not. GuardDuty names IAM users' and roles' findings alike
// ("...:IAMUser/..."): the inputs tell which playbook fits. A playbook
// that cannot be loaded is a misfit, with the reason.
func Answers(cat *loader.Catalog, entries []loader.Entry, f *Finding) (answers []string, misfits []Misfit) {
	for _, name := range Match(entries, f) {
		pb, err := cat.Find(name)
		if err == nil {
			_, err = loader.ResolveInputs(pb, nil, f.Env())
		}
		if err != nil {
			misfits = append(misfits, Misfit{Name: name, Err: err})
			continue
		}
		answers = append(answers, name)
	}
	return answers, misfits
}
