package memory

import (
	"errors"
	"fmt"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// captureParams declare capture-memory's parameters: the spec and the
// decoding both read them.
type captureParams struct {
	Host            string        `param:"host,required" doc:"address to SSH to"`
	Port            int           `param:"port" default:"22" doc:"SSH port"`
	User            string        `param:"user" default:"ec2-user" doc:"SSH user"`
	KeyFile         string        `param:"key_file" doc:"private key (ed25519, ECDSA, RSA); with none, ssh-agent (SSH_AUTH_SOCK)"`
	PassphraseEnv   string        `param:"key_passphrase_env" doc:"name of the environment variable holding key_file's passphrase"`
	Jump            *jumpParams   `param:"jump" doc:"bastion: {host, port, user, key_file, key_passphrase_env, host_key, known_hosts, insecure_host_key}"`
	HostKey         string        `param:"host_key" doc:"pinned host key fingerprint, SHA256:..."`
	KnownHosts      string        `param:"known_hosts" default:"~/.ssh/known_hosts" doc:"known_hosts file, used when neither host_key nor console_output is given"`
	ConsoleOutput   string        `param:"console_output" doc:"EC2 console output holding the host key fingerprints printed at first boot"`
	InsecureHostKey bool          `param:"insecure_host_key" default:"false" doc:"accept any host key (recorded in the custody log and outputs)"`
	Method          string        `param:"method" default:"lime" enum:"lime,avml,raw" doc:"how memory is read"`
	Source          string        `param:"source" doc:"device or file for raw, e.g. /dev/crash"`
	ModuleDir       string        `param:"module_dir" doc:"local dir of LiME modules named lime-<uname -r>.ko"`
	AvmlPath        string        `param:"avml_path" doc:"local AVML binary to upload"`
	Sudo            bool          `param:"sudo" default:"true" doc:"prefix privileged remote commands with sudo -n"`
	Sinks           []string      `param:"sinks" doc:"file://DIR and s3://BUCKET/PREFIX; none: the run's evidence store"`
	Compress        string        `param:"compress" default:"none" enum:"none,zstd" doc:"compression of the stored image; hashes are of the uncompressed stream"`
	StallTimeout    time.Duration `param:"stall_timeout" default:"60s" doc:"no byte for this long fails the capture"`
	ExpectedSize    int64         `param:"expected_size" doc:"bytes expected on the wire (LiME headers included); overrides detection"`
	LimePort        int           `param:"lime_port" doc:"target-local TCP port LiME listens on (127.0.0.1 only); default random"`
	LimeWait        time.Duration `param:"lime_wait" default:"60s" doc:"how long to wait for LiME to listen"`
	IomemPath       string        `param:"iomem_path" default:"/proc/iomem" doc:"where the target's RAM layout is read (for tests; leave the default)"`
	Keepalive       time.Duration `param:"keepalive" default:"15s" doc:"SSH keepalive interval; three missed replies end the capture"`
}

// jumpParams declare the keys of the jump map. A key not given is the
// target's (user, key_file, key_passphrase_env, known_hosts), except
// insecure_host_key: a bastion's key is checked unless the jump map itself
// says otherwise (a pin or console output names the target's own key,
// never the bastion's).
type jumpParams struct {
	Host            string `param:"host,required"`
	Port            int    `param:"port" default:"22"`
	User            string `param:"user"`
	KeyFile         string `param:"key_file"`
	PassphraseEnv   string `param:"key_passphrase_env"`
	HostKey         string `param:"host_key"`
	KnownHosts      string `param:"known_hosts"`
	InsecureHostKey bool   `param:"insecure_host_key" default:"false"`
}

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

func parseParams(in engine.Params) (*params, error) {
	p, err := engine.Decode[captureParams](in)
	if err != nil {
		return nil, err
	}
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	out := &params{
		Method: p.Method, Source: p.Source, ModuleDir: p.ModuleDir, AvmlPath: p.AvmlPath, Sudo: p.Sudo,
		Compress: p.Compress, Stall: p.StallTimeout, ExpectedSize: p.ExpectedSize, LimePort: p.LimePort,
		LimeWait: p.LimeWait, IomemPath: p.IomemPath,
	}
	target := endpoint{Host: p.Host, Port: p.Port, User: p.User, KeyFile: p.KeyFile, PassphraseEnv: p.PassphraseEnv,
		HostKey: hostKeyPolicy{Pinned: p.HostKey, ConsoleOutput: p.ConsoleOutput, KnownHosts: p.KnownHosts, Insecure: p.InsecureHostKey}}
	switch {
	case target.Host == "":
		bad("host is empty: give the address to SSH to")
	case target.User == "":
		bad("user is empty: give the SSH user")
	}
	if target.Port < 1 || target.Port > 65535 {
		bad("port %d is out of range 1-65535", target.Port)
	}
	out.Dial = dialConfig{Target: target, Keepalive: p.Keepalive}
	if p.Jump != nil {
		j := jumpEndpoint(p.Jump, target)
		out.Dial.Jump = &j
	}
	switch {
	case out.Method == "lime" && out.ModuleDir == "":
		bad("method lime needs module_dir: a directory of LiME modules named lime-<uname -r>.ko")
	case out.Method == "avml" && out.AvmlPath == "":
		bad("method avml needs avml_path: the local AVML binary to upload")
	case out.Method == "raw" && out.Source == "":
		bad("method raw needs source: the device or file to read, e.g. /dev/crash")
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"stall_timeout", out.Stall}, {"lime_wait", out.LimeWait}, {"keepalive", p.Keepalive}} {
		if d.d <= 0 {
			bad("%s %v is not positive: give a duration such as \"60s\"", d.name, d.d)
		}
	}
	if out.ExpectedSize < 0 {
		bad("expected_size %d is negative", out.ExpectedSize)
	}
	for _, s := range p.Sinks {
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

// jumpEndpoint is the bastion: the jump map's keys, the target's where
// the map does not say (insecure_host_key excepted, see jumpParams).
func jumpEndpoint(j *jumpParams, t endpoint) endpoint {
	or := func(s, def string) string {
		if s != "" {
			return s
		}
		return def
	}
	return endpoint{Host: j.Host, Port: j.Port, User: or(j.User, t.User), KeyFile: or(j.KeyFile, t.KeyFile),
		PassphraseEnv: or(j.PassphraseEnv, t.PassphraseEnv),
		HostKey:       hostKeyPolicy{Pinned: j.HostKey, KnownHosts: or(j.KnownHosts, t.HostKey.KnownHosts), Insecure: j.InsecureHostKey}}
}
