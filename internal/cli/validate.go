package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/urfave/cli/v2"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/playbooks"
)

func validateCommand(st *cliState) *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check playbooks; with no argument, every playbook found",
		ArgsUsage: "[FILE|DIR|NAME ...]",
		Action: func(c *cli.Context) error {
			reg := st.registry(c.Context, false)
			if c.NArg() == 0 {
				return st.validateAll(reg)
			}
			cat := st.catalog(reg)
			l := &loader.Loader{Registry: reg}
			var failed []error
			for _, arg := range c.Args().Slice() {
				if fi, err := os.Stat(arg); err == nil && fi.IsDir() {
					failed = st.validateDir(l, arg, failed)
					continue
				}
				pb, err := cat.Find(arg)
				failed = st.report(arg, pb, err, failed)
			}
			return validationResult(failed)
		},
	}
}

// validateAll checks every file in the playbook dirs, broken ones too
// (a catalogue lookup would stop at them), then every built-in.
func (st *cliState) validateAll(reg *engine.Registry) error {
	l := &loader.Loader{Registry: reg}
	var failed []error
	for _, dir := range st.playbookDirs {
		failed = st.validateDir(l, dir, failed)
	}
	builtins, _ := fs.Glob(playbooks.FS, "*.y*ml")
	for _, name := range builtins {
		data, err := fs.ReadFile(playbooks.FS, name)
		if err == nil {
			var pb *engine.Playbook
			pb, err = l.LoadBytes("builtin:"+name, data)
			failed = st.report("builtin:"+name, pb, err, failed)
			continue
		}
		printError(st.stderr, err)
		failed = append(failed, err)
	}
	return validationResult(failed)
}

// validateDir checks every playbook file of dir, broken ones too.
func (st *cliState) validateDir(l *loader.Loader, dir string, failed []error) []error {
	files, err := playbookFiles(dir)
	if err != nil {
		printError(st.stderr, err)
		return append(failed, err)
	}
	for _, f := range files {
		pb, err := l.LoadFile(f)
		failed = st.report(f, pb, err, failed)
	}
	return failed
}

// report prints one playbook's verdict: problems on stderr, in full, as
// "file:line:col: message" lines; a valid playbook as one line on stdout.
func (st *cliState) report(what string, pb *engine.Playbook, err error, failed []error) []error {
	if err != nil {
		printError(st.stderr, err)
		return append(failed, err)
	}
	fmt.Fprintf(st.stdout, "ok  %s (%s %s)\n", what, pb.Name, pb.Version)
	return failed
}

// validationResult is exit 2 when any playbook is invalid. The errors were
// printed already.
func validationResult(failed []error) error {
	if len(failed) == 0 {
		return nil
	}
	return silent{code: exitUsage}
}

// playbookFiles lists the .yaml and .yml files of dir; a missing dir (the
// default ./playbooks) has none.
func playbookFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading playbook dir %q: %w", dir, err)
	}
	var files []string
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(files)
	return files, nil
}
