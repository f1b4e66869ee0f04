package sshconn

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/firebreak-ir/firebreak/engine"
)

// Endpoint is one SSH hop: the target or a bastion.
type Endpoint struct {
	Host    string
	Port    int
	User    string
	KeyFile string
	// PassphraseEnv names the environment variable holding KeyFile's
	// passphrase; the passphrase itself never appears in a playbook.
	PassphraseEnv string
	HostKey       HostKeyPolicy
}

// Addr is host:port.
func (e Endpoint) Addr() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// DialConfig says how to reach the target.
type DialConfig struct {
	Target    Endpoint
	Jump      *Endpoint // nil: direct
	Keepalive time.Duration
	// HandshakeTimeout bounds each hop's TCP connect and SSH handshake.
	HandshakeTimeout time.Duration
}

// Conn is an authenticated SSH connection to the target, through the jump
// host when there is one. Close it to end both.
type Conn struct {
	*ssh.Client
	jump     *ssh.Client
	HostKey  *HostKeyResult
	JumpKey  *HostKeyResult
	stopKeep chan struct{}
}

// Close ends the target connection, the jump connection and the keepalives.
func (c *Conn) Close() error {
	select {
	case <-c.stopKeep:
	default:
		close(c.stopKeep)
	}
	err := c.Client.Close()
	if c.jump != nil {
		_ = c.jump.Close()
	}
	return err
}

// Dial connects to cfg.Target, honouring ctx during the TCP connect and
// the handshake (never ssh.Dial, which cannot be cancelled).
func Dial(ctx context.Context, cfg DialConfig) (*Conn, error) {
	c := &Conn{HostKey: &HostKeyResult{}, stopKeep: make(chan struct{})}
	var err error
	var d net.Dialer
	dialTarget := func(ctx context.Context) (net.Conn, error) {
		raw, err := d.DialContext(ctx, "tcp", cfg.Target.Addr())
		if err != nil {
			return nil, engine.Retryable(fmt.Errorf("connecting to %q: %w", cfg.Target.Addr(), err))
		}
		return raw, nil
	}
	if cfg.Jump != nil {
		c.JumpKey = &HostKeyResult{}
		dialJump := func(ctx context.Context) (net.Conn, error) {
			raw, err := d.DialContext(ctx, "tcp", cfg.Jump.Addr())
			if err != nil {
				return nil, engine.Retryable(fmt.Errorf("connecting to jump host %q: %w", cfg.Jump.Addr(), err))
			}
			return raw, nil
		}
		if c.jump, err = handshake(ctx, cfg, *cfg.Jump, c.JumpKey, dialJump); err != nil {
			return nil, fmt.Errorf("jump host: %w", err)
		}
		dialTarget = func(ctx context.Context) (net.Conn, error) {
			raw, err := c.jump.DialContext(ctx, "tcp", cfg.Target.Addr())
			if err != nil {
				return nil, engine.Retryable(fmt.Errorf("connecting to %q through jump host %q: %w", cfg.Target.Addr(), cfg.Jump.Addr(), err))
			}
			return raw, nil
		}
	}
	c.Client, err = handshake(ctx, cfg, cfg.Target, c.HostKey, dialTarget)
	if err != nil {
		if c.jump != nil {
			c.jump.Close()
		}
		return nil, err
	}
	if cfg.Keepalive > 0 {
		go keepalive(c.Client, cfg.Keepalive, c.stopKeep)
	}
	return c, nil
}

// handshake connects to one hop and runs the SSH handshake, once per set of
// host key algorithms the policy wants tried (a pinned fingerprint of an
// unknown key type), until one is accepted.
func handshake(ctx context.Context, cfg DialConfig, e Endpoint, res *HostKeyResult, dialFn func(context.Context) (net.Conn, error)) (*ssh.Client, error) {
	hk, err := e.HostKey.callback(res)
	if err != nil {
		return nil, err
	}
	auth, closeAuth, err := authMethods(e)
	if err != nil {
		return nil, err
	}
	defer closeAuth()
	var first error
	for _, algos := range e.HostKey.algorithmSets(e) {
		client, err := handshakeOnce(ctx, cfg, e, &ssh.ClientConfig{User: e.User, Auth: auth, HostKeyCallback: hk, HostKeyAlgorithms: algos}, dialFn)
		if err == nil {
			return client, nil
		}
		var mismatch hostKeyMismatch
		if first == nil || (errors.As(err, &mismatch) && !errors.As(first, &mismatch)) {
			first = err // a key mismatch says more than "no common algorithm"
		}
		if !retryOtherAlgorithm(err) {
			return nil, err
		}
	}
	return nil, first
}

func handshakeOnce(ctx context.Context, cfg DialConfig, e Endpoint, cc *ssh.ClientConfig, dialFn func(context.Context) (net.Conn, error)) (*ssh.Client, error) {
	timeout := cfg.HandshakeTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	cc.Timeout = timeout
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	raw, err := dialFn(hctx)
	if err != nil {
		return nil, err
	}
	raw = newBufConn(raw)
	// ssh.NewClientConn has no context: closing the connection is what
	// interrupts a handshake that ctx no longer wants.
	stop := context.AfterFunc(hctx, func() { raw.Close() })
	sc, chans, reqs, err := ssh.NewClientConn(raw, e.Addr(), cc)
	if !stop() {
		if err == nil {
			sc.Close()
		}
		return nil, engine.Retryable(fmt.Errorf("ssh handshake with %q: %w", e.Addr(), context.Cause(hctx)))
	}
	if err != nil {
		raw.Close()
		return nil, fmt.Errorf("ssh handshake with %q as %q: %w", e.Addr(), e.User, err)
	}
	return ssh.NewClient(sc, chans, reqs), nil
}

// authMethods returns the key file's signer, or the ssh-agent's keys when
// there is no key file.
func authMethods(e Endpoint) ([]ssh.AuthMethod, func(), error) {
	if e.KeyFile != "" {
		s, err := loadSigner(e.KeyFile, e.PassphraseEnv)
		if err != nil {
			return nil, nil, err
		}
		return []ssh.AuthMethod{ssh.PublicKeys(s)}, func() {}, nil
	}
	sock := os.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		return nil, nil, errors.New("no key_file given and no ssh-agent (SSH_AUTH_SOCK is empty): give key_file or start an agent")
	}
	ac, err := net.Dial("unix", sock)
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to ssh-agent at %q: %w", sock, err)
	}
	return []ssh.AuthMethod{ssh.PublicKeysCallback(agent.NewClient(ac).Signers)}, func() { ac.Close() }, nil
}

// loadSigner reads an OpenSSH or PEM private key (ed25519, ECDSA, RSA).
func loadSigner(path, passphraseEnv string) (ssh.Signer, error) {
	path = ExpandHome(path)
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading key_file: %w", err)
	}
	s, err := ssh.ParsePrivateKey(pem)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		if passphraseEnv == "" {
			return nil, fmt.Errorf("key_file %q is encrypted: set key_passphrase_env to the name of an environment variable holding its passphrase", path)
		}
		pass, ok := os.LookupEnv(passphraseEnv)
		if !ok {
			return nil, fmt.Errorf("key_file %q is encrypted and environment variable %q (key_passphrase_env) is not set", path, passphraseEnv)
		}
		s, err = ssh.ParsePrivateKeyWithPassphrase(pem, []byte(pass))
		if err != nil {
			return nil, fmt.Errorf("decrypting key_file %q with the passphrase from %q: %w", path, passphraseEnv, err)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("parsing key_file %q: %w", path, err)
	}
	return s, nil
}

// keepalive sends keepalive@openssh.com every interval and closes the
// client when the peer stops answering, so a dead network turns into a read
// error instead of a hang.
func keepalive(c *ssh.Client, every time.Duration, done <-chan struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		errc := make(chan error, 1)
		go func() { _, _, err := c.SendRequest("keepalive@openssh.com", true, nil); errc <- err }()
		wait := time.NewTimer(3 * every)
		select {
		case err := <-errc:
			wait.Stop()
			if err != nil {
				c.Close()
				return
			}
		case <-wait.C:
			c.Close()
			return
		case <-done:
			wait.Stop()
			return
		}
	}
}

// bufConn reads the connection through a large buffer. x/crypto/ssh reads
// through a 4 KiB bufio.Reader, which costs eight or more read syscalls
// per 32 KiB packet; on a memory stream those dominate.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func newBufConn(c net.Conn) net.Conn { return &bufConn{Conn: c, r: bufio.NewReaderSize(c, 256<<10)} }

func (b *bufConn) Read(p []byte) (int, error) { return b.r.Read(p) }
