package memory

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak-ir/firebreak/internal/sshconn"
)

// openLime loads the LiME module that matches the target's kernel and
// streams its output through an SSH direct-tcpip channel to
// 127.0.0.1:PORT on the target. LiME is told localhostonly=1, so the image
// is never offered on any other interface. The uploaded module is removed
// and the module unloaded afterwards, whatever happened (cl).
func openLime(ctx context.Context, r sshconn.Remote, p *params, cl *cleanups) (*source, error) {
	rel, err := r.Output(ctx, "uname -r", nil)
	if err != nil {
		return nil, err
	}
	rel = strings.TrimSpace(rel)
	if !kernelReleaseRE.MatchString(rel) {
		return nil, fmt.Errorf("target reported an unusable kernel release %q", rel)
	}
	module := filepath.Join(sshconn.ExpandHome(p.ModuleDir), "lime-"+rel+".ko")
	if _, err := os.Stat(module); err != nil {
		return nil, fmt.Errorf("no LiME module for kernel %q: %q is missing; build LiME against that kernel and put it in module_dir", rel, module)
	}
	up, err := r.Upload(ctx, module, "lime.ko", 0o600)
	cl.add("remove uploaded module "+up.Path, func(ctx context.Context, r sshconn.Remote) error { return r.RemoveUpload(ctx, up) })
	if err != nil {
		return nil, err
	}
	// LiME dumps exactly the System RAM ranges: knowing them before it
	// starts is what tells a whole image from one that stopped between
	// ranges.
	layout := readIomem(ctx, r, p.IomemPath)
	port := p.LimePort
	if port == 0 {
		port = pickLimePort(ctx, r)
	}
	insmod := r.Verified(up, "insmod", up.Path, fmt.Sprintf("path=tcp:%d format=lime localhostonly=1", port))
	if err := limeNotLoaded(ctx, r); err != nil {
		return nil, err
	}
	_, stopIns, waitIns, err := r.StreamCmd(insmod)
	if err != nil {
		return nil, err
	}
	// Only now is a loaded lime ours to unload.
	cl.add("rmmod lime", func(ctx context.Context, r sshconn.Remote) error {
		stopIns()
		_, err := r.Output(ctx, r.Priv("rmmod lime"), nil)
		return err
	})
	insDone := make(chan error, 1)
	go func() { insDone <- waitIns() }()
	ch, err := dialLime(ctx, r, port, p.LimeWait, insDone)
	if err != nil {
		return nil, err
	}
	src := &source{R: ch, Abort: func() { ch.Close() }, Lime: true, Ext: ".lime",
		Facts: map[string]any{"kernel_release": rel, "module": filepath.Base(module), "module_sha256": up.SHA256,
			"module_size": up.Size, "remote_module_path": up.Path, "command": insmod, "lime_port": port}}
	src.Wait = func(failed bool) error {
		res, err := limeExit(insDone, failed)
		src.Facts["insmod_result"] = res
		return err
	}
	src.setLayout(layout, p.ExpectedSize, true)
	return src, nil
}

// limeNotLoaded refuses to go on when a lime module is already loaded: it
// may be an earlier capture's that was never unloaded, or someone else's
// (perhaps the intruder's). Unloading it could destroy evidence, and
// loading ours would fail, so the responder decides.
func limeNotLoaded(ctx context.Context, r sshconn.Remote) error {
	// No /proc/modules (a kernel without module support) means none is
	// loaded; insmod then fails with its own message.
	mods, err := r.Output(ctx, "cat /proc/modules 2>/dev/null; true", nil)
	if err != nil {
		return fmt.Errorf("checking for a loaded lime module: %w", err)
	}
	for _, line := range strings.Split(mods, "\n") {
		if strings.HasPrefix(line, "lime ") {
			return errors.New("a lime module is already loaded on the target (an earlier capture's, or not firebreak's): " +
				"check what loaded it, unload it with rmmod lime if that is safe, then capture again")
		}
	}
	return nil
}

// kernelReleaseRE is what a kernel release may look like: it names a
// local file, so the target (perhaps the intruder) must not choose more.
var kernelReleaseRE = regexp.MustCompile(`^[A-Za-z0-9._+~-]{1,128}$`)

// dialLime connects to LiME's port through the SSH connection, retrying
// while the module starts listening, and gives up when insmod exits first
// or wait passes.
func dialLime(ctx context.Context, r sshconn.Remote, port int, wait time.Duration, insDone <-chan error) (net.Conn, error) {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		ch, err := r.Conn.DialContext(ctx, "tcp", addr)
		if err == nil {
			return ch, nil
		}
		select {
		case ierr := <-insDone:
			if ierr == nil {
				ierr = errors.New("insmod exited before LiME served the image")
			}
			return nil, fmt.Errorf("LiME did not listen on %s on the target: %w", addr, ierr)
		case <-deadline.C:
			return nil, fmt.Errorf("LiME did not listen on %s on the target within %v (lime_wait): %w", addr, wait, err)
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// limeExit says how insmod ended. LiME's insmod returns once the dump is
// sent, so after a whole stream it is waited for a little, and a failed
// insmod fails the capture. After a failed copy it is not waited for: the
// capture has already failed, and rmmod follows.
func limeExit(insDone <-chan error, failed bool) (string, error) {
	var err error
	if failed {
		select {
		case err = <-insDone:
		default:
			return "not waited for: the copy had failed", nil
		}
	} else {
		select {
		case err = <-insDone:
		case <-time.After(10 * time.Second):
			return "still running after the stream ended", nil
		}
	}
	if err != nil {
		return err.Error(), fmt.Errorf("insmod of the LiME module failed: %w", err)
	}
	return "exited 0", nil
}

// pickLimePort picks a port below the usual ephemeral range (32768+) that
// no socket on the target uses (/proc/net/tcp, tcp6), so insmod does not
// fail on a port some connection already holds.
func pickLimePort(ctx context.Context, r sshconn.Remote) int {
	used := map[int]bool{}
	out, _ := r.Output(ctx, "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null", nil)
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		if _, hexPort, ok := strings.Cut(f[1], ":"); ok {
			if n, err := strconv.ParseUint(hexPort, 16, 16); err == nil {
				used[int(n)] = true
			}
		}
	}
	port := 10000 + rand.IntN(22000)
	for i := 0; i < 1000 && used[port]; i++ {
		port = 10000 + rand.IntN(22000)
	}
	return port
}
