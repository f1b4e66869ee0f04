package memory

import (
	"context"
	"fmt"
	"os"

	"github.com/firebreak-ir/firebreak/engine"

	"github.com/firebreak-ir/firebreak/internal/sshconn"
)

var _ engine.Planner = (*capture)(nil)

// Plan says what a capture would do on the target, without connecting:
// plan and --dry-run show it. With Check it also checks what it can
// locally (the parameters, the module dir, the AVML binary).
func (c *capture) Plan(_ context.Context, in *engine.PlanInput) (*engine.PlanDetail, error) {
	p := in.Params
	// plan fills in the declared defaults; "?" is a value nobody gave.
	val := func(k string) string {
		if v, ok := p[k]; ok && v != nil && fmt.Sprint(v) != "" {
			return fmt.Sprint(v)
		}
		return "?"
	}
	priv := "sudo -n "
	if b, ok := p["sudo"].(bool); ok && !b {
		priv = ""
	}
	method := val("method")
	d := &engine.PlanDetail{Calls: []string{fmt.Sprintf("ssh %s@%s:%s (host key: %s)",
		val("user"), val("host"), val("port"), hostKeyMode(p))}}
	switch method {
	case "lime":
		d.Calls = append(d.Calls, "ssh: uname -r",
			"ssh: upload "+val("module_dir")+"/lime-<release>.ko to /tmp",
			"ssh: "+priv+"insmod <module> \"path=tcp:<port> format=lime localhostonly=1\"",
			"ssh: direct-tcpip to 127.0.0.1:<port> on the target, stream LiME",
			"ssh: "+priv+"rmmod lime; rm <module> (also after a failure)")
	case "avml":
		d.Calls = append(d.Calls, "ssh: upload "+val("avml_path")+" to /tmp",
			"ssh: "+priv+"<avml> /dev/stdout, stream", "ssh: rm <avml> (also after a failure)")
	default:
		d.Calls = append(d.Calls, "ssh: "+priv+"dd if="+val("source")+" bs=1M, stream")
	}
	sinks, _ := p["sinks"].([]any)
	for _, s := range sinks {
		d.Calls = append(d.Calls, "write "+fmt.Sprint(s)+" (sha256 while streaming; incomplete kept as partial)")
	}
	if len(sinks) == 0 {
		d.Calls = append(d.Calls, "write the case's evidence store (sha256 while streaming)")
	}
	if b, _ := p["insecure_host_key"].(bool); b {
		d.Notes = append(d.Notes, "the host key will NOT be verified (insecure_host_key); this is recorded")
	}
	if in.Check {
		d.Problems = checkLocal(p, method)
	}
	return d, nil
}

func hostKeyMode(p engine.Params) string {
	switch {
	case p.Bool("insecure_host_key"):
		return "not verified"
	case p.Has("host_key") && fmt.Sprint(p["host_key"]) != "":
		return "pinned"
	case p.Has("console_output") && fmt.Sprint(p["console_output"]) != "":
		return "console output fingerprints"
	}
	return "known_hosts"
}

// checkLocal finds, before the run, what would make the step fail at once.
func checkLocal(p engine.Params, method string) []string {
	for _, v := range p {
		if _, unknown := v.(engine.Unknown); unknown {
			return nil // decided at run time
		}
	}
	if _, err := parseParams(p); err != nil {
		return []string{err.Error()}
	}
	var problems []string
	if dir := p.String("module_dir"); method == "lime" {
		if fi, err := os.Stat(sshconn.ExpandHome(dir)); err != nil || !fi.IsDir() {
			problems = append(problems, fmt.Sprintf("module_dir %q is not a directory here", dir))
		}
	}
	if bin := p.String("avml_path"); method == "avml" {
		if _, err := os.Stat(sshconn.ExpandHome(bin)); err != nil {
			problems = append(problems, fmt.Sprintf("avml_path %q: %v", bin, err))
		}
	}
	return problems
}
