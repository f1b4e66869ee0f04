package loader

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/firebreak-ir/firebreak/engine"
)

// Catalog finds playbooks by name: in each of Dirs, in order, then in the
// built-ins of Builtin (an fs.FS such as playbooks.FS, read at its root).
// In each place a playbook NAME is the file NAME.yaml or NAME.yml, or
// else a file whose name: is NAME. The first found shadows the others.
type Catalog struct {
	Dirs    []string
	Builtin fs.FS
	Loader  *Loader
}

// Entry is one playbook of the catalogue, as `list` shows it.
// Its JSON form (list --format json) has snake_case keys.
type Entry struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	Incident    string `json:"incident"`
	Description string `json:"description"`
	// Source is the file ("dir/x.yaml") or "builtin:x.yaml".
	Source string `json:"source"`
	// Shadows are the sources of the playbooks of the same name that this
	// one hides, in lookup order.
	Shadows  []string `json:"shadows"`
	Findings []string `json:"findings"`
	// Auto is the playbook's auto: a finding it answers may start it at
	// once (serve --auto) instead of queueing it.
	Auto bool `json:"auto"`
}

// place is one directory or the built-ins, read through fs.FS.
type place struct {
	fsys   fs.FS
	prefix string // how a file's source is written: "dir/" or "builtin:"
}

func (c *Catalog) places() []place {
	var out []place
	for _, d := range c.Dirs {
		out = append(out, place{fsys: os.DirFS(d), prefix: filepath.ToSlash(filepath.Clean(d)) + "/"})
	}
	if c.Builtin != nil {
		out = append(out, place{fsys: c.Builtin, prefix: "builtin:"})
	}
	return out
}

// files lists a place's playbook files, sorted. A directory that does
// not exist holds none: the default ./playbooks is often absent.
func (p place) files() ([]string, error) {
	ents, err := fs.ReadDir(p.fsys, ".")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading playbooks in %q: %w", strings.TrimSuffix(p.prefix, "/"), err)
	}
	var out []string
	for _, e := range ents {
		if n := e.Name(); !e.IsDir() && (strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (c *Catalog) loader() *Loader {
	if c.Loader == nil {
		return &Loader{}
	}
	return c.Loader
}

func (c *Catalog) load(p place, file string) (*engine.Playbook, error) {
	data, err := readFS(p.fsys, file)
	if err != nil {
		return nil, fmt.Errorf("reading playbook %q: %w", p.prefix+file, err)
	}
	return c.loader().LoadBytes(p.prefix+file, data)
}

// readFS reads a playbook file of a catalogue place. Anything can sit in
// a playbook dir under a .yaml name: it refuses what is not a regular file
// before opening it (opening a FIFO blocks until a writer comes, and list
// and find would hang), refuses a file over MaxSize by its size, and reads
// at most MaxSize+1 bytes should the file grow meanwhile.
func readFS(fsys fs.FS, file string) ([]byte, error) {
	fi, err := fs.Stat(fsys, file)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	if fi.Size() > MaxSize {
		return nil, fmt.Errorf("larger than %d bytes (%d): a playbook should be a few kilobytes", MaxSize, fi.Size())
	}
	f, err := fsys.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("larger than %d bytes: a playbook should be a few kilobytes", MaxSize)
	}
	return data, nil
}

// peekName reads only the name: of a playbook file, so that looking up a
// name does not fail on an unrelated broken file.
func peekName(fsys fs.FS, file string) string {
	data, err := readFS(fsys, file)
	if err != nil {
		return ""
	}
	var head struct {
		Name string `yaml:"name"`
	}
	if yaml.Unmarshal(data, &head) != nil {
		return ""
	}
	return head.Name
}

// IsFile reports whether a command-line argument names a file rather than
// a playbook: it contains "/" or ends in .yaml or .yml.
func IsFile(arg string) bool {
	return strings.Contains(arg, "/") || strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml")
}

// Find loads the playbook nameOrFile: a file path (see IsFile) as it is,
// else the first playbook of that name in the catalogue.
func (c *Catalog) Find(nameOrFile string) (*engine.Playbook, error) {
	if IsFile(nameOrFile) {
		return c.loader().LoadFile(nameOrFile)
	}
	var errs []error
	for _, p := range c.places() {
		files, err := p.files()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range files {
			if f == nameOrFile+".yaml" || f == nameOrFile+".yml" {
				return c.load(p, f)
			}
		}
		for _, f := range files {
			if peekName(p.fsys, f) == nameOrFile {
				return c.load(p, f)
			}
		}
	}
	return nil, c.notFound(nameOrFile, errs)
}

func (c *Catalog) notFound(name string, errs []error) error {
	var where []string
	for _, p := range c.places() {
		if p.prefix == "builtin:" {
			where = append(where, "the built-ins")
		} else {
			where = append(where, strings.TrimSuffix(p.prefix, "/"))
		}
	}
	if len(where) == 0 {
		where = []string{"no place (give --playbooks DIR)"}
	}
	var names []string
	list, _ := c.List() // broken files are not candidates, and not this error
	for _, e := range list {
		names = append(names, e.Name)
	}
	msg := fmt.Errorf("no playbook named %q in %s%s: see firebreak list", name, strings.Join(where, ", "), suggest(name, names))
	return errors.Join(append([]error{msg}, errs...)...)
}
