package memory

import (
	"errors"
	"fmt"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// params are capture-memory's parameters, checked.
type params struct {
	Dial         dialConfig
	Method       string
	Source       string
	ModuleDir    string
	AvmlPath     string
	Sudo         bool
	Sinks        []sinkTarget // empty: the run's evidence store
	Compress     string
	Stall        time.Duration
	ExpectedSize int64
	LimePort     int
	LimeWait     time.Duration
	IomemPath    string // where the RAM layout is read on the target; tests point it elsewhere
}

func parseParams(p engine.Params) (*params, error) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	out := &params{
		Method: p.String("method"), Source: p.String("source"), ModuleDir: p.String("module_dir"),
		AvmlPath: p.String("avml_path"), Sudo: p.Bool("sudo"), Compress: p.String("compress"),
		Stall: p.Duration("stall_timeout"), ExpectedSize: int64(p.Int("expected_size")),
		LimePort: p.Int("lime_port"), LimeWait: p.Duration("lime_wait"), IomemPath: strOr(p, "iomem_path", "/proc/iomem"),
	}
	if !p.Has("sudo") {
		out.Sudo = true
	}
	target := endpoint{
		Host: p.String("host"), Port: intOr(p, "port", 22), User: strOr(p, "user", "ec2-user"),
		KeyFile: p.String("key_file"), PassphraseEnv: p.String("key_passphrase_env"),
		HostKey: hostKeyPolicy{Pinned: p.String("host_key"), ConsoleOutput: p.String("console_output"),
			KnownHosts: p.String("known_hosts"), Insecure: p.Bool("insecure_host_key")},
	}
	if target.Host == "" {
		bad("host is empty: give the address to SSH to")
	}
	if target.Port < 1 || target.Port > 65535 {
		bad("port %d is out of range 1-65535", target.Port)
	}
	out.Dial = dialConfig{Target: target, Keepalive: durOr(p, "keepalive", 15*time.Second)}
	if m := p.Map("jump"); len(m) > 0 {
		j, err := parseJump(m, target)
		if err != nil {
			errs = append(errs, err)
		}
		out.Dial.Jump = &j
	}
	switch out.Method {
	case "":
		out.Method = "lime"
		fallthrough
	case "lime":
		if out.ModuleDir == "" {
			bad("method lime needs module_dir: a directory of LiME modules named lime-<uname -r>.ko")
		}
	case "avml":
		if out.AvmlPath == "" {
			bad("method avml needs avml_path: the local AVML binary to upload")
		}
	case "raw":
		if out.Source == "" {
			bad("method raw needs source: the device or file to read, e.g. /dev/crash")
		}
	default:
		bad("method %q is unknown: use lime, avml or raw", out.Method)
	}
	switch out.Compress {
	case "":
		out.Compress = "none"
	case "none", "zstd":
	default:
		bad("compress %q is unknown: use none or zstd", out.Compress)
	}
	if out.Stall <= 0 {
		out.Stall = 60 * time.Second
	}
	if out.LimeWait <= 0 {
		out.LimeWait = 60 * time.Second
	}
	if out.ExpectedSize < 0 {
		bad("expected_size %d is negative", out.ExpectedSize)
	}
	for _, s := range p.Strings("sinks") {
		t, err := parseSink(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out.Sinks = append(out.Sinks, t)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// parseJump reads the jump map. Unset, the key file, passphrase and
// known_hosts are the target's. insecure_host_key is not inherited: a
// bastion's key is checked unless the jump map itself says otherwise (a
// pin or console output names the target's own key, never the bastion's).
func parseJump(m map[string]any, t endpoint) (endpoint, error) {
	target := t.HostKey
	p := engine.Params(m)
	for _, k := range engine.SortedKeys(m) {
		switch k {
		case "host", "port", "user", "key_file", "key_passphrase_env", "host_key", "known_hosts", "insecure_host_key":
		default:
			return endpoint{}, fmt.Errorf("jump has unknown key %q: use host, port, user, key_file, key_passphrase_env, host_key, known_hosts, insecure_host_key", k)
		}
	}
	port, err := engine.Coerce(engine.TypeInt, orDefault(m["port"], 22))
	if err != nil {
		return endpoint{}, fmt.Errorf("jump port: %w", err)
	}
	insecure, err := engine.Coerce(engine.TypeBool, orDefault(m["insecure_host_key"], false))
	if err != nil {
		return endpoint{}, fmt.Errorf("jump insecure_host_key: %w", err)
	}
	e := endpoint{Host: p.String("host"), Port: port.(int), User: strOr(p, "user", t.User),
		KeyFile: strOr(p, "key_file", t.KeyFile), PassphraseEnv: strOr(p, "key_passphrase_env", t.PassphraseEnv),
		HostKey: hostKeyPolicy{Pinned: p.String("host_key"), KnownHosts: strOr(p, "known_hosts", target.KnownHosts), Insecure: insecure.(bool)}}
	if e.Host == "" {
		return endpoint{}, errors.New("jump has no host: give {host, port, user, key_file}")
	}
	return e, nil
}

func orDefault(v, def any) any {
	if v == nil {
		return def
	}
	return v
}

func intOr(p engine.Params, k string, def int) int {
	if p.Has(k) {
		return p.Int(k)
	}
	return def
}

func strOr(p engine.Params, k, def string) string {
	if s := p.String(k); s != "" {
		return s
	}
	return def
}

func durOr(p engine.Params, k string, def time.Duration) time.Duration {
	if d := p.Duration(k); d > 0 {
		return d
	}
	return def
}
