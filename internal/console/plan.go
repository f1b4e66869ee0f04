package console

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/engine/plan"
)

// maxPlans bounds the targets planned with --check on one page (each
// reads the account); the run still takes every target.
const maxPlans = 10

type planView struct {
	Target, Text, Error string
	Problems            []string
}

type planPage struct {
	Playbook string
	Targets  []string
	Plans    []planView
	Error    string
}

// planPage is GET /plan?playbook=NAME&targets=ID...: the plan of each
// target with --check (reads the live account, changes nothing), and the
// form that confirms the run.
func (s *Server) planPage(w http.ResponseWriter, r *http.Request, c caller) {
	q := r.URL.Query()
	p := planPage{Playbook: q.Get("playbook")}
	for _, t := range q["targets"] {
		p.Targets = append(p.Targets, strings.Fields(t)...)
	}
	pb, err := s.findPlaybook(p.Playbook)
	switch {
	case err != nil:
		p.Error = err.Error()
	case len(p.Targets) == 0:
		p.Error = "no instance selected: select one or more in the inventory"
	case len(p.Targets) > maxTargets:
		p.Error = fmt.Sprintf("%d targets: at most %d at once", len(p.Targets), maxTargets)
	}
	if p.Error != "" {
		s.render(w, r, http.StatusBadRequest, "plan", c, p)
		return
	}
	in, ok := targetInput(pb)
	if !ok {
		p.Error = fmt.Sprintf("playbook %q has no input marked target: true", pb.Name)
		s.render(w, r, http.StatusBadRequest, "plan", c, p)
		return
	}
	var opts []plan.Option
	if s.cfg.PlanOptions != nil {
		opts = s.cfg.PlanOptions(r.Context())
	}
	for i, t := range p.Targets {
		if i == maxPlans {
			p.Plans = append(p.Plans, planView{Target: fmt.Sprintf("%d more targets", len(p.Targets)-maxPlans),
				Text: "not planned here (at most 10 a page); each is checked again when its run starts"})
			break
		}
		v := planView{Target: t}
		given := s.targetGiven(pb, in, nil, t)
		resolved, err := loader.ResolveInputs(pb, given, (&engine.Env{}))
		if err != nil {
			v.Error = err.Error()
			p.Error = "an input is not valid: see below"
			p.Plans = append(p.Plans, v)
			continue
		}
		pl, err := plan.Build(r.Context(), s.cfg.Registry, pb, resolved, true, opts...)
		if err != nil {
			v.Error = err.Error()
			p.Plans = append(p.Plans, v)
			continue
		}
		var buf bytes.Buffer
		pl.Text(&buf)
		v.Text, v.Problems = buf.String(), pl.Problems()
		p.Plans = append(p.Plans, v)
	}
	s.render(w, r, http.StatusOK, "plan", c, p)
}

// targetGiven is the inputs of one target's run: those given, the target,
// and, for a playbook with a region input not given, the instance's region
// from the inventory (a target may be in any region).
func (s *Server) targetGiven(pb *engine.Playbook, target *engine.Input, given map[string]any, value string) map[string]any {
	m := map[string]any{}
	for k, v := range given {
		m[k] = v
	}
	m[target.Name] = value
	if _, ok := pb.Input("region"); ok {
		if _, set := m["region"]; !set {
			if in, ok := s.inv.peek(value); ok {
				m["region"] = in.Region
			}
		}
	}
	return m
}
