package analysis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/firebreak-ir/firebreak/internal/sshconn"
)

// host runs the analysis tools: this machine, or the forensic workstation
// over SSH. Output always streams to a writer: nothing the tools print is
// held whole.
type host interface {
	// run runs argv with its standard output going to out. A tool that is
	// not installed gives a *missingTool error; any other failure an error
	// carrying the start of its standard error.
	run(ctx context.Context, argv []string, out io.Writer) error
	// missing returns the tools of names that are not installed.
	missing(ctx context.Context, names []string) ([]string, error)
	// upload writes r to a new private file and returns its path and a
	// function that removes it.
	upload(ctx context.Context, name string, r io.Reader) (string, func(), error)
	where() string
}

// localHost runs tools on this machine.
type localHost struct{}

func (localHost) where() string { return "local" }

func (localHost) run(ctx context.Context, argv []string, out io.Writer) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	stderr := &capped{max: 4096}
	cmd.Stdout, cmd.Stderr = out, stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return &missingTool{tool: argv[0], where: "this machine"}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", argv[0], context.Cause(ctx))
		}
		return &toolError{argv: argv, err: err, stderr: strings.TrimSpace(stderr.String())}
	}
	return nil
}

func (localHost) missing(_ context.Context, names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			out = append(out, n)
		}
	}
	return out, nil
}

func (localHost) upload(_ context.Context, name string, r io.Reader) (string, func(), error) {
	dir, err := os.MkdirTemp("", "firebreak-analysis-")
	if err != nil {
		return "", nil, err
	}
	done := func() { os.RemoveAll(dir) }
	f, err := os.OpenFile(dir+"/"+name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err == nil {
		_, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		done()
		return "", nil, err
	}
	return f.Name(), done, nil
}

// sshHost runs tools on a host over SSH; with sudo, each as root through
// "sudo -n" (reading a block device needs it).
type sshHost struct {
	r    sshconn.Remote
	addr string
}

func (h *sshHost) where() string { return h.addr }

func (h *sshHost) command(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = sshconn.ShellQuote(a)
	}
	return h.r.Priv(strings.Join(q, " "))
}

func (h *sshHost) run(ctx context.Context, argv []string, out io.Writer) error {
	s, err := h.r.Conn.NewSession()
	if err != nil {
		return fmt.Errorf("opening an ssh session on %s: %w", h.addr, err)
	}
	defer s.Close()
	stderr := &capped{max: 4096}
	s.Stdout, s.Stderr = out, stderr
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	if err := s.Run(h.command(argv)); err != nil {
		var exit *ssh.ExitError
		switch {
		case ctx.Err() != nil:
			return fmt.Errorf("%s on %s: %w", argv[0], h.addr, context.Cause(ctx))
		case errors.As(err, &exit) && exit.ExitStatus() == 127:
			return &missingTool{tool: argv[0], where: h.addr}
		}
		return &toolError{argv: argv, where: h.addr, err: err, stderr: strings.TrimSpace(stderr.String())}
	}
	return nil
}

// missing asks the host's shell which tools it cannot find.
func (h *sshHost) missing(ctx context.Context, names []string) ([]string, error) {
	script := `for t in "$@"; do command -v "$t" >/dev/null 2>&1 || echo "$t"; done`
	argv := append([]string{"sh", "-c", script, "firebreak"}, names...)
	var out bytes.Buffer
	if err := h.run(ctx, argv, &out); err != nil {
		return nil, err
	}
	return strings.Fields(out.String()), nil
}

func (h *sshHost) upload(ctx context.Context, name string, r io.Reader) (string, func(), error) {
	tmp, err := os.CreateTemp("", "firebreak-upload-")
	if err != nil {
		return "", nil, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := io.Copy(tmp, r); err != nil {
		return "", nil, err
	}
	up, err := h.r.Upload(ctx, tmp.Name(), name, 0o600)
	done := func() { _ = h.r.RemoveUpload(context.WithoutCancel(ctx), up) }
	if err != nil {
		done()
		return "", nil, err
	}
	return up.Path, done, nil
}

// toolError is a tool that ran and failed.
type toolError struct {
	argv   []string
	where  string
	err    error
	stderr string
}

func (e *toolError) Error() string {
	on := ""
	if e.where != "" {
		on = " on " + e.where
	}
	return fmt.Sprintf("%s%s: %v: %q", strings.Join(e.argv, " "), on, e.err, e.stderr)
}

func (e *toolError) Unwrap() error { return e.err }

// capped keeps the first max bytes written: enough of stderr for an error
// message, never an unbounded buffer.
type capped struct {
	mu  sync.Mutex
	max int
	b   bytes.Buffer
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - c.b.Len(); room > 0 {
		c.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b.String()
}
