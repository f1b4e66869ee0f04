package sshconn

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Remote runs commands on a host over one SSH connection. Sudo prefixes
// privileged commands (Priv) with "sudo -n".
type Remote struct {
	Conn *Conn
	Sudo bool
}

// Priv prefixes cmd with "sudo -n" when sudo is on: -n makes a sudo that
// wants a password fail at once instead of hanging the capture.
func (r Remote) Priv(cmd string) string {
	if r.Sudo {
		return "sudo -n " + cmd
	}
	return cmd
}

// Output runs cmd and returns its stdout; a non-zero exit is an error that
// carries stderr. ctx ending closes the session.
func (r Remote) Output(ctx context.Context, cmd string, stdin io.Reader) (string, error) {
	s, err := r.Conn.NewSession()
	if err != nil {
		return "", fmt.Errorf("opening an ssh session: %w", err)
	}
	defer s.Close()
	var stdout, stderr bytes.Buffer
	s.Stdout, s.Stderr, s.Stdin = &stdout, &stderr, stdin
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	if err := s.Run(cmd); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("remote command %q: %w", cmd, context.Cause(ctx))
		}
		return stdout.String(), fmt.Errorf("remote command %q: %w: %q", cmd, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// Uploaded is a local file copied to the target.
type Uploaded struct {
	Dir    string // the private directory made for it; removed afterwards
	Path   string // remote path
	SHA256 string // of the local file, as sent
	Size   int64
}

var tempDirRE = regexp.MustCompile(`^/tmp/firebreak-[A-Za-z0-9]{10}$`)

// Upload copies the local file into a fresh directory on the target (exec
// "cat >", which needs no SFTP subsystem) and checks the size that arrived.
// With sudo the directory is made by root (mktemp -d: 0700), so the login
// user, who may be the intruder, cannot swap the file before root loads it;
// without sudo it is the user's own, and only the hash check at use
// (verified) stands between a swap and its use. A returned Dir must be
// removed even when err is set.
func (r Remote) Upload(ctx context.Context, local, name string, mode os.FileMode) (Uploaded, error) {
	f, err := os.Open(ExpandHome(local))
	if err != nil {
		return Uploaded{}, fmt.Errorf("opening %q to upload: %w", local, err)
	}
	defer f.Close()
	out, err := r.Output(ctx, r.Priv("mktemp -d /tmp/firebreak-XXXXXXXXXX"), nil)
	if err != nil {
		return Uploaded{}, fmt.Errorf("making a private directory on the target: %w", err)
	}
	dir := strings.TrimSpace(out)
	if !tempDirRE.MatchString(dir) {
		return Uploaded{}, fmt.Errorf("mktemp on the target answered %q, not a /tmp/firebreak-* directory", dir)
	}
	path := dir + "/" + name
	h := sha256.New()
	cr := &countReader{r: io.TeeReader(f, h)}
	script := fmt.Sprintf(`umask 077 && cat > "$1" && chmod %o "$1" && wc -c < "$1"`, mode)
	out, err = r.Output(ctx, r.Priv("sh -c "+ShellQuote(script)+" firebreak "+ShellQuote(path)), cr)
	if err != nil {
		return Uploaded{Dir: dir, Path: path}, fmt.Errorf("uploading %q: %w", local, err)
	}
	if got, _ := strconv.ParseInt(strings.TrimSpace(out), 10, 64); got != cr.n {
		return Uploaded{Dir: dir, Path: path}, fmt.Errorf("uploading %q: %d bytes arrived, sent %d", local, got, cr.n)
	}
	return Uploaded{Dir: dir, Path: path, SHA256: hex.EncodeToString(h.Sum(nil)), Size: cr.n}, nil
}

// Verified is argv as one remote command (privileged when sudo is on) that
// first checks the uploaded file still has the hash that was sent, in the
// same shell that then runs argv, and refuses (exit 97) when it does not.
func (r Remote) Verified(up Uploaded, argv ...string) string {
	script := `f=$1; shift; echo "` + up.SHA256 + `  $f" | sha256sum -c --status - || ` +
		`{ echo "uploaded file $f no longer matches the sha256 sent: refusing to use it" >&2; exit 97; }; exec "$@"`
	q := make([]string, 0, len(argv)+1)
	q = append(q, ShellQuote(up.Path))
	for _, a := range argv {
		q = append(q, ShellQuote(a))
	}
	return r.Priv("sh -c " + ShellQuote(script) + " firebreak " + strings.Join(q, " "))
}

// RemoveUpload deletes what upload made.
func (r Remote) RemoveUpload(ctx context.Context, up Uploaded) error {
	if up.Dir == "" {
		return nil
	}
	_, err := r.Output(ctx, r.Priv("rm -rf -- "+ShellQuote(up.Dir)), nil)
	return err
}

// StreamCmd starts cmd and returns its stdout; wait returns its exit
// status and stderr once stdout has ended.
func (r Remote) StreamCmd(cmd string) (io.Reader, func(), func() error, error) {
	s, err := r.Conn.NewSession()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("opening an ssh session: %w", err)
	}
	out, err := s.StdoutPipe()
	if err != nil {
		s.Close()
		return nil, nil, nil, err
	}
	stderr := &capped{max: 4096}
	s.Stderr = stderr
	if err := s.Start(cmd); err != nil {
		s.Close()
		return nil, nil, nil, fmt.Errorf("starting %q: %w", cmd, err)
	}
	var once sync.Once
	closeFn := func() { once.Do(func() { s.Close() }) }
	wait := func() error {
		defer closeFn()
		if err := s.Wait(); err != nil {
			return fmt.Errorf("remote command %q: %w: %q", cmd, err, strings.TrimSpace(stderr.String()))
		}
		return nil
	}
	return out, closeFn, wait, nil
}

// ShellQuote quotes s as one word for a POSIX shell.
func ShellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

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
