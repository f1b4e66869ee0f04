package engine

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// decode fills dst, a struct of d's type, from p. path prefixes the names
// in errors ("jump." inside a nested map).
func (d *paramDecl) decode(dst reflect.Value, p map[string]any, path string) error {
	var errs []error
	for _, k := range SortedKeys(p) {
		if slices.Contains(d.names, k) {
			continue
		}
		if path == "" {
			errs = append(errs, fmt.Errorf("unknown parameter %q: the parameters are %s", k, strings.Join(d.names, ", ")))
		} else {
			errs = append(errs, fmt.Errorf("%s has unknown key %q: use %s", strings.TrimSuffix(path, "."), k, strings.Join(d.names, ", ")))
		}
	}
	for i := range d.fields {
		if err := d.fields[i].decode(dst.FieldByIndex(d.fields[i].index), p[d.fields[i].Name], path); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// decode coerces v (nil when not given), or takes the default, and sets dst.
func (f *paramField) decode(dst reflect.Value, v any, path string) error {
	name := path + f.Name
	if f.absent(v) {
		switch {
		case f.hasDef:
			return f.set(dst, f.def, name)
		case f.Required:
			return fmt.Errorf("parameter %q is required but has no value", name)
		}
		return nil
	}
	c, err := Coerce(f.Type, v)
	if err == nil && len(f.Enum) > 0 && !slices.Contains(f.Enum, c.(string)) {
		err = fmt.Errorf("%s is not one of %s", Describe(c), quoteList(f.Enum))
	}
	if err == nil {
		// A list item or a nested key names itself in the error.
		if err = f.set(dst, c, name); err == nil || !f.Secret {
			return err
		}
	}
	if f.Secret { // the error would quote the value
		return fmt.Errorf("secret parameter %q: the value is not a valid %s (not shown)", name, f.Type)
	}
	return fmt.Errorf("parameter %q: %w", name, err)
}

// absent: null, or for a nested declaration an empty map, counts as not
// given, so an input defaulting to {} turns the feature off.
func (f *paramField) absent(v any) bool {
	if v == nil {
		return true
	}
	m, ok := v.(map[string]any)
	return ok && f.nested != nil && len(m) == 0
}

// set stores c, already coerced to f.Type, in dst.
func (f *paramField) set(dst reflect.Value, c any, name string) error {
	switch f.Type {
	case TypeString:
		dst.SetString(c.(string))
	case TypeBool:
		dst.SetBool(c.(bool))
	case TypeInt:
		dst.SetInt(int64(c.(int)))
	case TypeDuration:
		dst.SetInt(int64(c.(time.Duration)))
	case TypeList:
		return setList(dst, c.([]any), name)
	case TypeMap:
		if f.nested == nil {
			dst.Set(reflect.ValueOf(c))
			return nil
		}
		ptr := reflect.New(f.ftype.Elem())
		if err := f.nested.decode(ptr.Elem(), c.(map[string]any), name+"."); err != nil {
			return err
		}
		dst.Set(ptr)
	default: // TypeAny
		if c != nil {
			dst.Set(reflect.ValueOf(c))
		}
	}
	return nil
}

// setList fills a []string, []int or []any. A string list takes scalars
// (formatted); a nested list or map is an error rather than being flattened
// into something nobody wrote.
func setList(dst reflect.Value, items []any, name string) error {
	kind := dst.Type().Elem().Kind()
	if kind == reflect.Interface {
		dst.Set(reflect.ValueOf(slices.Clone(items)).Convert(dst.Type()))
		return nil
	}
	out := reflect.MakeSlice(dst.Type(), len(items), len(items))
	for i, it := range items {
		if kind == reflect.Int {
			n, err := Coerce(TypeInt, it)
			if err != nil {
				return fmt.Errorf("%s[%d]: %w", name, i, err)
			}
			out.Index(i).SetInt(int64(n.(int)))
			continue
		}
		switch x := it.(type) {
		case string:
			out.Index(i).SetString(x)
		case int, int64, uint64, float64, bool:
			out.Index(i).SetString(Format(x))
		default:
			return fmt.Errorf("%s[%d] is %s: each item must be a string", name, i, Describe(it))
		}
	}
	dst.Set(out)
	return nil
}

// quoteList renders an enum as the loader does: "a", "b", "c".
func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
