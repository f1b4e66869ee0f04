package sshconn

import (
	"errors"
	"fmt"
	"time"
)

// Params are the SSH connection parameters of every action that works on
// a host over SSH (capture-memory, analyze-disk): the same names, defaults
// and host-key rules. Embed it in the action's parameter struct
// (engine.ParamsOf inlines it). The host is the action's own parameter:
// required for one, optional (local) for another.
type Params struct {
	Port            int           `param:"port" default:"22" doc:"SSH port"`
	User            string        `param:"user" default:"ec2-user" doc:"SSH user"`
	KeyFile         string        `param:"key_file" doc:"private key (ed25519, ECDSA, RSA); with none, ssh-agent (SSH_AUTH_SOCK)"`
	PassphraseEnv   string        `param:"key_passphrase_env,secretenv" doc:"name of the environment variable holding key_file's passphrase (no command step may pass it on)"`
	Jump            *JumpParams   `param:"jump" doc:"bastion: {host, port, user, key_file, key_passphrase_env, host_key, known_hosts, insecure_host_key}"`
	HostKey         string        `param:"host_key" doc:"pinned host key fingerprint, SHA256:..."`
	KnownHosts      string        `param:"known_hosts" default:"~/.ssh/known_hosts" doc:"known_hosts file, used when neither host_key nor console_output is given"`
	ConsoleOutput   string        `param:"console_output" doc:"EC2 console output holding the host key fingerprints printed at first boot"`
	InsecureHostKey bool          `param:"insecure_host_key" default:"false" doc:"accept any host key (recorded in the custody log and outputs)"`
	Keepalive       time.Duration `param:"keepalive" default:"15s" doc:"SSH keepalive interval; three missed replies end the connection"`
}

// JumpParams declare the keys of the jump map. A key not given is the
// target's (user, key_file, key_passphrase_env, known_hosts), except
// insecure_host_key: a bastion's key is checked unless the jump map itself
// says otherwise (a pin or console output names the target's own key,
// never the bastion's).
type JumpParams struct {
	Host            string `param:"host,required"`
	Port            int    `param:"port" default:"22"`
	User            string `param:"user"`
	KeyFile         string `param:"key_file"`
	PassphraseEnv   string `param:"key_passphrase_env,secretenv"`
	HostKey         string `param:"host_key"`
	KnownHosts      string `param:"known_hosts"`
	InsecureHostKey bool   `param:"insecure_host_key" default:"false"`
}

// DialConfig is how to reach host with these parameters. It checks what
// the declaration cannot (an empty host or user, the port's range, a
// keepalive that is not positive) and reports every problem.
func (p Params) DialConfig(host string) (DialConfig, error) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	target := Endpoint{Host: host, Port: p.Port, User: p.User, KeyFile: p.KeyFile, PassphraseEnv: p.PassphraseEnv,
		HostKey: HostKeyPolicy{Pinned: p.HostKey, ConsoleOutput: p.ConsoleOutput, KnownHosts: p.KnownHosts, Insecure: p.InsecureHostKey}}
	switch {
	case target.Host == "":
		bad("host is empty: give the address to SSH to")
	case target.User == "":
		bad("user is empty: give the SSH user")
	}
	if target.Port < 1 || target.Port > 65535 {
		bad("port %d is out of range 1-65535", target.Port)
	}
	if p.Keepalive <= 0 {
		bad("keepalive %v is not positive: give a duration such as \"15s\"", p.Keepalive)
	}
	cfg := DialConfig{Target: target, Keepalive: p.Keepalive}
	if p.Jump != nil {
		j := jumpEndpoint(p.Jump, target)
		cfg.Jump = &j
	}
	return cfg, errors.Join(errs...)
}

// jumpEndpoint is the bastion: the jump map's keys, the target's where
// the map does not say (insecure_host_key excepted, see JumpParams).
func jumpEndpoint(j *JumpParams, t Endpoint) Endpoint {
	or := func(s, def string) string {
		if s != "" {
			return s
		}
		return def
	}
	return Endpoint{Host: j.Host, Port: j.Port, User: or(j.User, t.User), KeyFile: or(j.KeyFile, t.KeyFile),
		PassphraseEnv: or(j.PassphraseEnv, t.PassphraseEnv),
		HostKey:       HostKeyPolicy{Pinned: j.HostKey, KnownHosts: or(j.KnownHosts, t.HostKey.KnownHosts), Insecure: j.InsecureHostKey}}
}

// Facts are what a connection accepted of the hosts' keys, for an action's
// outputs and its custody events.
func Facts(c *Conn) map[string]any {
	m := map[string]any{"host_key_fingerprint": c.HostKey.Fingerprint, "host_key_type": c.HostKey.Type,
		"host_key_verified_by": c.HostKey.VerifiedBy, "insecure_host_key": c.HostKey.VerifiedBy == "insecure"}
	if c.JumpKey != nil {
		m["jump_host_key_fingerprint"] = c.JumpKey.Fingerprint
		m["jump_host_key_verified_by"] = c.JumpKey.VerifiedBy
	}
	return m
}

// Insecure reports whether c accepted a key without checking it, on the
// target or on the jump host: a custody fact, not only a log line.
func (c *Conn) Insecure() bool {
	return c.HostKey.VerifiedBy == "insecure" || (c.JumpKey != nil && c.JumpKey.VerifiedBy == "insecure")
}

// Pinned is cfg with every hop's host key pinned to what c accepted, for a
// second connection to the same hosts (cleanup after a dropped stream).
func (c *Conn) Pinned(cfg DialConfig) DialConfig {
	cfg.Target.HostKey = HostKeyPolicy{Pinned: c.HostKey.Fingerprint}
	if cfg.Jump != nil && c.JumpKey != nil {
		j := *cfg.Jump
		j.HostKey = HostKeyPolicy{Pinned: c.JumpKey.Fingerprint}
		cfg.Jump = &j
	}
	return cfg
}
