package loader

import (
	"path"
	"regexp"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/firebreak-ir/firebreak/engine"
)

// The fields the loader accepts; schema_test.go keeps
// schemas/playbook.schema.json in step with them.
var (
	topFields      = []string{"name", "version", "incident", "description", "findings", "auto", "inputs", "defaults", "concurrency", "steps", "finally"}
	stepFields     = []string{"id", "action", "with", "needs", "when", "timeout", "retries", "backoff", "continue_on_error", "for_each", "concurrency", "approve", "description"}
	inputFields    = []string{"type", "required", "default", "pattern", "enum", "target", "description"}
	defaultsFields = []string{"timeout", "retries", "backoff"}
	backoffFields  = []string{"initial", "max", "factor", "jitter"}
)

// DefaultTimeout is a step's timeout when neither the step nor the
// playbook's defaults set one.
const DefaultTimeout = 10 * time.Minute

// namePattern is the form of playbook names and step ids: usable in file
// names, URLs and tags as they are.
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// playbook decodes the root mapping and checks it whole.
func (d *decoder) playbook(root *yaml.Node, reg *engine.Registry) *engine.Playbook {
	root = d.deref(root)
	if root == nil {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		d.errf(root, "a playbook must be a map of fields (name, steps, ...), got %s", describe(root))
		return nil
	}
	pb := &engine.Playbook{Defaults: engine.StepDefaults{Timeout: DefaultTimeout, Backoff: engine.DefaultBackoff}}
	by := map[string]field{}
	for _, f := range d.fields(root, "the playbook", topFields) {
		by[f.name] = f
	}
	if f, ok := by["name"]; !ok || isNull(d.deref(f.val)) {
		d.errf(root, `missing required field "name": name the playbook, e.g. name: host-compromise`)
	} else if v, n := d.str(f); n != nil {
		pb.Name = v
		if !namePattern.MatchString(v) {
			d.errf(n, "bad name %q: use lower-case letters, digits and dashes, starting with a letter or digit", v)
		}
	}
	pb.Version, _ = d.str(by["version"])
	pb.Incident, _ = d.str(by["incident"])
	pb.Description, _ = d.str(by["description"])
	if f, ok := by["findings"]; ok {
		pb.Findings = d.findings(f)
	}
	if f, ok := by["auto"]; ok {
		pb.Auto, _ = d.bool(f)
	}
	if f, ok := by["concurrency"]; ok {
		pb.Concurrency, _ = d.int(f, 1)
	}
	if f, ok := by["defaults"]; ok {
		d.defaults(f, &pb.Defaults)
	}
	if f, ok := by["inputs"]; ok {
		pb.Inputs = d.inputs(f)
	}
	var main, fin []*stepDecl
	if f, ok := by["steps"]; !ok || isNull(d.deref(f.val)) {
		d.errf(root, `missing required field "steps": a playbook needs at least one step`)
	} else {
		main = d.steps(f, pb.Defaults, false)
	}
	if f, ok := by["finally"]; ok {
		fin = d.steps(f, pb.Defaults, true)
	}
	for _, s := range main {
		pb.Steps = append(pb.Steps, s.s)
	}
	for _, s := range fin {
		pb.Finally = append(pb.Finally, s.s)
	}
	d.check(pb, main, fin, reg)
	return pb
}

func (d *decoder) findings(f field) []string {
	var out []string
	for _, n := range d.strList(f, "finding types") {
		if _, err := path.Match(n.Value, ""); err != nil {
			d.errf(n, "bad finding type pattern %q: %v", n.Value, err)
			continue
		}
		out = append(out, n.Value)
	}
	return out
}

func (d *decoder) defaults(f field, def *engine.StepDefaults) {
	for _, g := range d.fields(f.val, "defaults", defaultsFields) {
		switch g.name {
		case "timeout":
			if v, ok := d.duration(g); ok {
				def.Timeout = v
			}
		case "retries":
			def.Retries, _ = d.int(g, 0)
		case "backoff":
			def.Backoff = d.backoff(g, def.Backoff)
		}
	}
}

// backoff reads a backoff map over base: fields not given keep base's.
func (d *decoder) backoff(f field, base engine.Backoff) engine.Backoff {
	b := base
	for _, g := range d.fields(f.val, "backoff", backoffFields) {
		switch g.name {
		case "initial":
			if v, ok := d.duration(g); ok {
				b.Initial = v
			}
		case "max":
			if v, ok := d.duration(g); ok {
				b.Max = v
			}
		case "factor":
			if v, ok := d.float(g); ok {
				if v < 1 {
					d.errf(g.val, "factor must be at least 1, got %v", v)
				} else {
					b.Factor = v
				}
			}
		case "jitter":
			b.Jitter, _ = d.bool(g)
		}
	}
	if b.Max < b.Initial {
		d.errf(d.deref(f.val), "backoff max %v is shorter than initial %v: raise max", b.Max, b.Initial)
	}
	return b
}
