package loader

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/firebreak-ir/firebreak/engine"
)

// InputError is a problem with one run input. It wraps
// engine.ErrInvalidInput.
type InputError struct {
	Name string
	Msg  string
}

func (e *InputError) Error() string {
	if e.Name == "" {
		return "inputs: " + e.Msg
	}
	return fmt.Sprintf("input %q: %s", e.Name, e.Msg)
}

// Unwrap makes errors.Is(err, engine.ErrInvalidInput) true.
func (e *InputError) Unwrap() error { return engine.ErrInvalidInput }

func inputErr(name, format string, args ...any) error {
	return &InputError{Name: name, Msg: fmt.Sprintf(format, args...)}
}

// ParseInputFlags reads -i key=value flags. Values stay strings, coerced
// to the declared types by ResolveInputs ("a,b" becomes a list there).
func ParseInputFlags(kv []string) (map[string]any, error) {
	out := make(map[string]any, len(kv))
	var errs []error
	for _, s := range kv {
		k, v, ok := strings.Cut(s, "=")
		k = strings.TrimSpace(k)
		switch {
		case !ok:
			errs = append(errs, inputErr("", "-i %q: want key=value, e.g. -i instance_id=i-0abc", s))
		case k == "":
			errs = append(errs, inputErr("", "-i %q: the name before = is empty", s))
		case out[k] != nil:
			errs = append(errs, inputErr(k, "given twice: give it once (a list is -i %s=a,b)", k))
		default:
			out[k] = v
		}
	}
	return out, errors.Join(errs...)
}

// ReadInputsFile reads inputs from a YAML or JSON file holding one map of
// input names to values. It reads at most MaxSize+1 bytes, so a huge file
// or an endless device costs no memory. A pipe the caller names stays
// allowed (--inputs-file <(...) is a natural use): the caller asked for it,
// unlike a FIFO found while scanning a playbook dir.
func ReadInputsFile(path string) (map[string]any, error) {
	data, err := readInputs(path)
	if errors.Is(err, errTooLarge) {
		return nil, inputErr("", "file %q is larger than %d bytes", path, MaxSize)
	}
	if err != nil {
		return nil, fmt.Errorf("inputs file: %w: %w", engine.ErrInvalidInput, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		return nil, inputErr("", "file %q: want a map of input names to values (YAML or JSON): %s", path, msg)
	}
	if len(doc.Content) == 0 {
		return map[string]any{}, nil
	}
	// The loader's own walk, with its budgets: aliases are followed, and
	// counted, as in a playbook.
	d := newDecoder(path, data)
	// Twice the inputs' own limit: the file may repeat a little through
	// aliases; ResolveInputs then applies the limit to what is used.
	d.what, d.bytes, d.limit = "the inputs file", 2*MaxInputsBytes, 2*MaxInputsBytes
	root := d.deref(doc.Content[0])
	if root != nil && !isNull(root) && root.Kind != yaml.MappingNode {
		return nil, inputErr("", "file %q: want a map of input names to values (YAML or JSON), not %s", path, describe(root))
	}
	v, _ := d.plain(root, 0)
	if len(d.errs) > 0 {
		return nil, inputErr("", "%s", d.errs[0].Error())
	}
	out, _ := v.(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}

// CheckInputsSize refuses inputs larger than MaxInputsBytes as JSON: the
// journal, the custody log and the manifest each hold them whole.
func CheckInputsSize(inputs map[string]any) error {
	b, err := json.Marshal(inputs)
	if err != nil {
		return inputErr("", "the inputs cannot be recorded: %v", err)
	}
	if len(b) > MaxInputsBytes {
		return inputErr("", "the inputs are %d bytes as JSON, more than %d: give large data as a file the playbook reads, not as an input", len(b), MaxInputsBytes)
	}
	return nil
}

var errTooLarge = errors.New("file too large")

// readInputs reads path, refusing a directory and a regular file over
// MaxSize (errTooLarge) by what Stat says, and anything else after
// MaxSize+1 bytes.
func readInputs(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%q is a directory", path)
	}
	if fi.Mode().IsRegular() && fi.Size() > MaxSize {
		return nil, errTooLarge
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err == nil && len(data) > MaxSize {
		err = errTooLarge
	}
	return data, err
}
