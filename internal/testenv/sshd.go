//go:build unix

// sshd.go is unix-only: the server is started in its own process group so
// that stop can end it and what it forked together.

package testenv

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// SSHD is an OpenSSH sshd started for one test: it listens on a loopback
// port, runs sessions as the current user, and trusts one throw-away client
// key. BinDir comes first on the PATH of every session, so a test can put
// stand-in programs (insmod, rmmod, sudo) there.
type SSHD struct {
	Host string
	Port int
	User string
	// ClientKey is the path of an unencrypted ed25519 private key that the
	// server accepts.
	ClientKey string
	// HostKey is the server's public host key in authorized_keys format
	// ("ssh-ed25519 AAAA..."); HostKeyFile is its private key's path.
	HostKey     string
	HostKeyFile string
	// ExtraHostKeys are the public keys of the host keys added with
	// WithHostKeyTypes, by type ("ecdsa", "rsa").
	ExtraHostKeys map[string]string
	// BinDir is first on the sessions' PATH.
	BinDir string
	// Dir holds the server's files; tests may put their own there.
	Dir string

	cmd        *exec.Cmd
	exited     chan struct{} // closed when cmd.Wait has returned
	out        *sshdLog
	extraTypes []string
	extraFiles []string
}

// SSHDOption changes how StartSSHD sets the server up.
type SSHDOption func(*SSHD)

// WithHostKeyTypes gives the server host keys of these types ("ecdsa",
// "rsa") besides its ed25519 one, as a real host has.
func WithHostKeyTypes(types ...string) SSHDOption {
	return func(s *SSHD) { s.extraTypes = append(s.extraTypes, types...) }
}

// Addr returns "host:port".
func (s *SSHD) Addr() string { return net.JoinHostPort(s.Host, itoa(s.Port)) }

// StartSSHD starts sshd (/usr/sbin/sshd) and stops it when the test ends.
// A missing sshd or ssh-keygen skips the test, or fails it under
// FIREBREAK_REQUIRE_INTEGRATION=1.
func StartSSHD(t testing.TB, opts ...SSHDOption) *SSHD {
	t.Helper()
	sshd := "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		Missing(t, "/usr/sbin/sshd not installed (apt-get install openssh-server)")
	}
	LookPath(t, "ssh-keygen")
	u, err := user.Current()
	if err != nil {
		t.Fatalf("current user: %v", err)
	}
	dir := t.TempDir()
	s := &SSHD{Host: "127.0.0.1", User: u.Username, Dir: dir, BinDir: filepath.Join(dir, "bin"), out: &sshdLog{}}
	if err := os.MkdirAll(s.BinDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// sshd refuses to start as root without its privilege separation dir.
		_ = os.MkdirAll("/run/sshd", 0o755)
	}
	s.HostKeyFile = filepath.Join(dir, "host_ed25519")
	s.HostKey = GenerateKey(t, s.HostKeyFile, "ed25519", "")
	for _, o := range opts {
		o(s)
	}
	s.ExtraHostKeys = map[string]string{}
	for _, typ := range s.extraTypes {
		f := filepath.Join(dir, "host_"+typ)
		s.ExtraHostKeys[typ] = GenerateKey(t, f, typ, "")
		s.extraFiles = append(s.extraFiles, f)
	}
	s.ClientKey = filepath.Join(dir, "client_ed25519")
	s.Authorize(t, GenerateKey(t, s.ClientKey, "ed25519", ""))

	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s.Port = FreePort(t)
		conf := filepath.Join(dir, "sshd_config")
		if err := os.WriteFile(conf, []byte(s.config()), 0o600); err != nil {
			t.Fatal(err)
		}
		s.cmd = exec.Command(sshd, "-D", "-e", "-f", conf)
		s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
		// Session processes forked by sshd inherit its output; without a
		// WaitDelay a connection left open would make stop wait forever.
		s.cmd.WaitDelay = 5 * time.Second
		s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := s.cmd.Start(); err != nil {
			t.Fatalf("starting sshd: %v", err)
		}
		// One goroutine waits, so a crash is seen at once (exited) rather
		// than by polling ProcessState, which only Wait sets.
		s.exited = make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(s.exited) }()
		if lastErr = s.waitReady(20 * time.Second); lastErr == nil {
			t.Cleanup(s.stop)
			return s
		}
		s.stop()
	}
	t.Fatalf("sshd did not start: %v", lastErr)
	return nil
}

func (s *SSHD) config() string {
	lines := []string{
		"Port " + itoa(s.Port),
		"ListenAddress 127.0.0.1",
		"HostKey " + s.HostKeyFile,
		"PidFile " + filepath.Join(s.Dir, "sshd.pid"),
		"AuthorizedKeysFile " + filepath.Join(s.Dir, "authorized_keys"),
		"StrictModes no",
		"UsePAM no",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PubkeyAuthentication yes",
		"PermitRootLogin prohibit-password",
		"AllowTcpForwarding yes",
		"MaxStartups 64",
		"MaxSessions 64",
		"Subsystem sftp internal-sftp",
		"SetEnv PATH=" + s.BinDir + ":/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
		"LogLevel ERROR",
	}
	for _, f := range s.extraFiles {
		lines = append(lines, "HostKey "+f)
	}
	return strings.Join(lines, "\n") + "\n"
}

// waitReady waits until sshd has written its pid file, which it does only
// once it listens, and the file holds this process's pid (not a stale one
// left by an earlier try). An sshd that exits first fails at once.
func (s *SSHD) waitReady(limit time.Duration) error {
	pidFile := filepath.Join(s.Dir, "sshd.pid")
	want := itoa(s.cmd.Process.Pid)
	deadline := time.After(limit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if b, err := os.ReadFile(pidFile); err == nil && strings.TrimSpace(string(b)) == want {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("sshd exited (%v) before it was ready; output:\n%s", s.cmd.ProcessState, s.out.String())
		case <-deadline:
			return fmt.Errorf("not ready after %v; output:\n%s", limit, s.out.String())
		case <-tick.C:
		}
	}
}

// stop kills sshd's process group and waits for it to be reaped.
func (s *SSHD) stop() {
	if s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
	_ = os.Remove(filepath.Join(s.Dir, "sshd.pid"))
}

// Log returns what sshd printed, for failure messages.
func (s *SSHD) Log() string { return s.out.String() }

// Authorize adds a public key (authorized_keys format) to the keys the
// server accepts. sshd reads the file at each login, so it works after start.
func (s *SSHD) Authorize(t testing.TB, pub string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(s.Dir, "authorized_keys"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.TrimSpace(pub) + "\n"); err != nil {
		t.Fatal(err)
	}
}

// WriteScript puts an executable stand-in program called name in BinDir.
func (s *SSHD) WriteScript(t testing.TB, name, body string) string {
	t.Helper()
	p := filepath.Join(s.BinDir, name)
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// GenerateKey makes a key pair with ssh-keygen (typ "ed25519", "ecdsa" or
// "rsa"; passphrase may be empty) at path and path+".pub", and returns the
// public key in authorized_keys format.
func GenerateKey(t testing.TB, path, typ, passphrase string) string {
	t.Helper()
	args := []string{"-q", "-t", typ, "-N", passphrase, "-C", "firebreak-test", "-f", path}
	if typ == "rsa" {
		args = append(args, "-b", "2048")
	}
	var stderr bytes.Buffer
	cmd := exec.Command(LookPath(t, "ssh-keygen"), args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ssh-keygen -t %s: %v: %s", typ, err, stderr.String())
	}
	pub, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(pub))
}

func writeFile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// sshdLog collects sshd's output; sshd writes while tests read.
type sshdLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *sshdLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *sshdLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
