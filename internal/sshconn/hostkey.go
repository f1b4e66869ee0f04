package sshconn

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HostKeyPolicy says how a target's host key is checked. Exactly one way
// applies, in this order: pinned fingerprint, insecure, console output,
// known_hosts. An explicit pin is always checked, even with insecure: the
// responder gave it for this very host. A pin or console output wins over
// known_hosts for the same reason.
type HostKeyPolicy struct {
	Pinned        string // "SHA256:..."
	ConsoleOutput string // EC2 console output text
	KnownHosts    string // path, ~ expanded
	Insecure      bool
}

// HostKeyResult is what was accepted, for the outputs and the custody log.
type HostKeyResult struct {
	mu          sync.Mutex
	Fingerprint string
	Type        string
	VerifiedBy  string // "pinned", "console-output", "known-hosts", "insecure"
}

func (r *HostKeyResult) set(key ssh.PublicKey, by string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Fingerprint, r.Type, r.VerifiedBy = ssh.FingerprintSHA256(key), key.Type(), by
}

// callback returns the ssh.HostKeyCallback for p, recording the accepted
// key in res.
func (p HostKeyPolicy) callback(res *HostKeyResult) (ssh.HostKeyCallback, error) {
	switch {
	case p.Pinned != "":
		want := strings.TrimSpace(p.Pinned)
		if !strings.HasPrefix(want, "SHA256:") {
			return nil, fmt.Errorf("host_key %q is not a SHA256 fingerprint: give it as printed by ssh-keygen -lf, \"SHA256:...\"", want)
		}
		return fingerprintCallback(res, "pinned", map[string]bool{want: true}, "the pinned host_key "+want), nil
	case p.Insecure:
		return func(_ string, _ net.Addr, key ssh.PublicKey) error {
			res.set(key, "insecure")
			return nil
		}, nil
	case strings.TrimSpace(p.ConsoleOutput) != "":
		fps, later, err := consoleFingerprints(p.ConsoleOutput)
		if err != nil {
			return nil, err
		}
		return consoleCallback(res, fps, later), nil
	default:
		return p.knownHostsCallback(res)
	}
}

func fingerprintCallback(res *HostKeyResult, by string, want map[string]bool, what string) ssh.HostKeyCallback {
	return func(host string, _ net.Addr, key ssh.PublicKey) error {
		fp := ssh.FingerprintSHA256(key)
		if !want[fp] {
			return hostKeyMismatch{fmt.Errorf("host key of %q (%s %s) does not match %s: the host may be impersonated; check the key out of band, or set insecure_host_key: true to accept it (recorded)",
				host, key.Type(), fp, what)}
		}
		res.set(key, by)
		return nil
	}
}

// consoleCallback accepts a key printed at boot, and refuses one found only
// in a later block of the console, saying so.
func consoleCallback(res *HostKeyResult, boot map[string]bool, later map[string]int) ssh.HostKeyCallback {
	check := fingerprintCallback(res, "console-output", boot, "the fingerprints in console_output")
	return func(host string, remote net.Addr, key ssh.PublicKey) error {
		fp := ssh.FingerprintSHA256(key)
		if line, ok := later[fp]; ok && !boot[fp] {
			return hostKeyMismatch{fmt.Errorf("host key of %q (%s %s) is only in a host key block printed later on the console (line %d), not in the one printed at first boot: anything on the host that writes to the console can print such a block, so it is refused; pin host_key after checking the key out of band",
				host, key.Type(), fp, line)}
		}
		return check(host, remote, key)
	}
}

// knownHostsPath is the known_hosts file, ~ expanded. Its default is the
// known_hosts parameter's; an empty path is a mistake, not a default.
func (p HostKeyPolicy) knownHostsPath() (string, error) {
	if p.KnownHosts == "" {
		return "", errors.New("known_hosts is empty: give a known_hosts file, a host_key pin or console_output")
	}
	return ExpandHome(p.KnownHosts), nil
}

func (p HostKeyPolicy) knownHostsCallback(res *HostKeyResult) (ssh.HostKeyCallback, error) {
	path, err := p.knownHostsPath()
	if err != nil {
		return nil, err
	}
	cb, err := knownhosts.New(path)
	if err != nil {
		return nil, fmt.Errorf("reading known_hosts %q: %w (give host_key or console_output instead)", path, err)
	}
	return func(host string, remote net.Addr, key ssh.PublicKey) error {
		err := cb(host, remote, key)
		var ke *knownhosts.KeyError
		if errors.As(err, &ke) {
			if len(ke.Want) == 0 {
				return fmt.Errorf("host key of %q (%s %s) is unknown: it is not in %q; pin it with host_key, pass console_output, or add it to known_hosts",
					host, key.Type(), ssh.FingerprintSHA256(key), path)
			}
			return fmt.Errorf("host key of %q (%s %s) has CHANGED from the one in %q line %d: the host may be impersonated or rebuilt; check it out of band before capturing",
				host, key.Type(), ssh.FingerprintSHA256(key), path, ke.Want[0].Line)
		}
		if err != nil {
			return fmt.Errorf("checking host key of %q against %q: %w", host, path, err)
		}
		res.set(key, "known-hosts")
		return nil
	}, nil
}

// consoleKeyBlock is one host key block found in console output.
type consoleKeyBlock struct {
	kind       string // "fingerprints" or "keys"
	begin, end int    // line numbers (1-based) of its BEGIN and END lines
	fps        []string
}

// bootBlockGap is the most lines between the END of the first block and
// the BEGIN of the second for both to be what cloud-init printed at boot
// (it prints the fingerprints, one banner line, then the keys).
const bootBlockGap = 5

// consoleFingerprints extracts the host-key fingerprints that cloud-init
// prints to the EC2 console at first boot. It reads the
// "-----BEGIN SSH HOST KEY FINGERPRINTS-----" block (lines such as
// "256 SHA256:abc root@ip-10-0-0-1 (ED25519)") and the
// "-----BEGIN SSH HOST KEY KEYS-----" block (authorized_keys lines).
// Console lines often carry an "ec2: " prefix, which is ignored.
//
// Only what cloud-init printed at boot counts: the first block, and the
// block of the other kind right after it. Anything on the host that can
// write to the serial console (an intruder with root) can print more
// blocks later; their fingerprints are returned apart, in later, so that
// a key found only there is refused by name.
func consoleFingerprints(console string) (boot map[string]bool, later map[string]int, err error) {
	blocks := consoleBlocks(console)
	boot, later = map[string]bool{}, map[string]int{}
	for i, b := range blocks {
		first := i == 0 || i == 1 && b.kind != blocks[0].kind && b.begin-blocks[0].end <= bootBlockGap
		for _, fp := range b.fps {
			if first {
				boot[fp] = true
			} else if _, ok := later[fp]; !ok {
				later[fp] = b.begin
			}
		}
	}
	if len(boot) == 0 {
		return nil, nil, errors.New("console_output holds no SSH host key fingerprints (no \"-----BEGIN SSH HOST KEY FINGERPRINTS-----\" or KEYS block): fetch it after first boot completes, or pin host_key")
	}
	return boot, later, nil
}

// consoleBlocks returns the host key blocks of console output in order.
// A block ends at its END line, the next BEGIN, or the end of the text.
func consoleBlocks(console string) []consoleKeyBlock {
	var blocks []consoleKeyBlock
	var cur *consoleKeyBlock
	sc := bufio.NewScanner(strings.NewReader(console))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		line = strings.TrimSpace(strings.TrimPrefix(line, "ec2:"))
		kind := ""
		switch {
		case strings.HasPrefix(line, "-----BEGIN SSH HOST KEY FINGERPRINTS-----"):
			kind = "fingerprints"
		case strings.HasPrefix(line, "-----BEGIN SSH HOST KEY KEYS-----"):
			kind = "keys"
		case strings.HasPrefix(line, "-----END SSH HOST KEY"):
			if cur != nil {
				cur.end = n
				cur = nil
			}
			continue
		}
		if kind != "" {
			if cur != nil {
				cur.end = n - 1
			}
			blocks = append(blocks, consoleKeyBlock{kind: kind, begin: n, end: n})
			cur = &blocks[len(blocks)-1]
			continue
		}
		if cur != nil {
			cur.end = n
			cur.fps = append(cur.fps, lineFingerprints(cur.kind, line)...)
		}
	}
	return blocks
}

// lineFingerprints reads the fingerprints of one line of a block.
func lineFingerprints(kind, line string) []string {
	if kind == "keys" {
		if key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line)); err == nil {
			return []string{ssh.FingerprintSHA256(key)}
		}
		return nil
	}
	var fps []string
	for _, f := range strings.Fields(line) {
		if strings.HasPrefix(f, "SHA256:") {
			fps = append(fps, f)
		}
	}
	return fps
}

// ExpandHome replaces a leading ~ with the home directory.
func ExpandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}
