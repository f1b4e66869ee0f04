// Package loader reads playbooks: YAML through yaml.Node, so that every
// problem is reported at its line and column, all at once; then the model
// (*engine.Playbook) with defaults applied and every expression compiled.
// It also checks run inputs (-i, --inputs-file) and finds playbooks by name
// in directories and the built-ins.
package loader

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/firebreak-ir/firebreak/engine"
)

// Loader loads and validates playbooks against the actions of Registry.
// With a nil Registry, actions and their parameters are not checked (for
// tools that only read a playbook's shape). A Loader is safe for
// concurrent use.
type Loader struct {
	Registry *engine.Registry
}

// LoadFile reads and loads the playbook at path; positions name path.
func (l *Loader) LoadFile(path string) (*engine.Playbook, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	return l.LoadBytes(path, data)
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading playbook: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading playbook %q: %w", path, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("playbook %q is larger than %d bytes: a playbook should be a few kilobytes", path, MaxSize)
	}
	return data, nil
}

// LoadBytes loads a playbook from data; name is its source (a path, or
// "builtin:<path>") and appears in every position. Problems come back as a
// *Errors, sorted by position.
func (l *Loader) LoadBytes(name string, data []byte) (*engine.Playbook, error) {
	d := newDecoder(name, data)
	if len(data) > MaxSize {
		d.errAt(engine.Pos{File: name}, "the playbook is larger than %d bytes: a playbook should be a few kilobytes", MaxSize)
		return nil, &Errors{List: d.errs}
	}
	root := d.parse(data)
	var pb *engine.Playbook
	if root != nil {
		pb = d.playbook(root, l.Registry)
	}
	if len(d.errs) > 0 {
		return nil, &Errors{List: capErrors(name, sortErrors(d.errs))}
	}
	sum := sha256.Sum256(data)
	pb.Source, pb.SHA256, pb.Raw = name, hex.EncodeToString(sum[:]), data
	return pb, nil
}

// parse reads the single YAML document of data.
func (d *decoder) parse(data []byte) (root *yaml.Node) {
	defer func() {
		// yaml.v3 has panicked on hostile input before; a bad file must
		// not take the program down.
		if r := recover(); r != nil {
			d.errAt(engine.Pos{File: d.file}, "the YAML parser failed on this file (%v): check its syntax", r)
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.errAt(engine.Pos{File: d.file, Line: 1, Col: 1}, "the playbook is empty: it needs at least a name and steps")
		} else {
			d.syntax(data, err)
		}
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		d.errf(&next, "a playbook file holds one YAML document, this is a second one: move it to its own file")
	} else if !errors.Is(err, io.EOF) {
		d.syntax(data, err)
	}
	if len(doc.Content) == 0 {
		d.errAt(engine.Pos{File: d.file, Line: 1, Col: 1}, "the playbook is empty: it needs at least a name and steps")
		return nil
	}
	return doc.Content[0]
}

// capErrors keeps the first maxErrors problems and says how many more.
func capErrors(file string, list []*Error) []*Error {
	if len(list) <= maxErrors {
		return list
	}
	more := &Error{Pos: engine.Pos{File: file}, Msg: fmt.Sprintf("and %d more problems: fix the ones above first", len(list)-maxErrors)}
	return append(list[:maxErrors:maxErrors], more)
}
