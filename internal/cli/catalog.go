package cli

import (
	"errors"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/playbooks"
)

// catalog finds playbooks in the --playbooks dirs, then among the built-ins.
func (st *cliState) catalog(reg *engine.Registry) *loader.Catalog {
	return &loader.Catalog{
		Dirs:    st.playbookDirs,
		Builtin: playbooks.FS,
		Loader:  &loader.Loader{Registry: reg},
	}
}

// find looks a playbook up by name or file. Whatever goes wrong is the
// responder's to fix (a typo, a broken file): exit 2.
func (st *cliState) find(reg *engine.Registry, arg string) (*engine.Playbook, error) {
	pb, err := st.catalog(reg).Find(arg)
	if err != nil {
		var le *loader.Errors
		if errors.As(err, &le) {
			return nil, err
		}
		return nil, withCode(exitUsage, err)
	}
	return pb, nil
}
