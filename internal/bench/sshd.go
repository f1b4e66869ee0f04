package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// sshd is an OpenSSH server on a loopback port for the memory benchmark,
// as internal/testenv starts one for tests (that one needs a testing.TB).
type sshd struct {
	port                 int
	user, dir, clientKey string
	knownHosts           string
	cmd                  *exec.Cmd
}

func startSSHD(ctx context.Context) (*sshd, error) {
	u, err := user.Current()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "firebreak-bench-sshd-")
	if err != nil {
		return nil, err
	}
	s := &sshd{user: u.Username, dir: dir, clientKey: filepath.Join(dir, "client")}
	hostKey := filepath.Join(dir, "host")
	for _, k := range []string{hostKey, s.clientKey} {
		if out, err := exec.CommandContext(ctx, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", k).CombinedOutput(); err != nil {
			s.stop()
			return nil, fmt.Errorf("ssh-keygen: %v: %s", err, out)
		}
	}
	pub, _ := os.ReadFile(s.clientKey + ".pub")
	hostPub, _ := os.ReadFile(hostKey + ".pub")
	_ = os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o600)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.stop()
		return nil, err
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	s.knownHosts = filepath.Join(dir, "known_hosts")
	_ = os.WriteFile(s.knownHosts, []byte(fmt.Sprintf("[127.0.0.1]:%d %s", s.port, hostPub)), 0o600)
	conf := strings.Join([]string{"Port " + strconv.Itoa(s.port), "ListenAddress 127.0.0.1", "HostKey " + hostKey,
		"PidFile " + filepath.Join(dir, "pid"), "AuthorizedKeysFile " + filepath.Join(dir, "authorized_keys"),
		"StrictModes no", "UsePAM no", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password", "AllowTcpForwarding yes", "LogLevel ERROR"}, "\n") + "\n"
	_ = os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(conf), 0o600)
	if os.Geteuid() == 0 {
		_ = os.MkdirAll("/run/sshd", 0o755)
	}
	s.cmd = exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	if err := s.cmd.Start(); err != nil {
		s.stop()
		return nil, fmt.Errorf("starting sshd: %w", err)
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))); err == nil {
			c.Close()
			return s, nil
		}
	}
	s.stop()
	return nil, fmt.Errorf("sshd did not start on port %d", s.port)
}

func (s *sshd) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
	os.RemoveAll(s.dir)
}
