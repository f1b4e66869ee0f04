package loader

import (
	"errors"
	"fmt"
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
// input names to values.
func ReadInputsFile(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("inputs file: %w: %w", engine.ErrInvalidInput, err)
	}
	if len(data) > MaxSize {
		return nil, inputErr("", "file %q is larger than %d bytes", path, MaxSize)
	}
	var out map[string]any
	if err := yaml.Unmarshal(data, &out); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		return nil, inputErr("", "file %q: want a map of input names to values (YAML or JSON): %s", path, msg)
	}
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}
