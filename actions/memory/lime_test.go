package memory

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// limeServer is the stand-in for LiME: a python3 server bound to 127.0.0.1
// that serves an image on the port insmod is given, optionally stopping
// (and holding the connection open) after stallAfter bytes.
const limeServer = `import socket, sys
port, image, stall_after = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(1)
c, _ = s.accept()
sent = 0
with open(image, "rb") as f:
    while True:
        b = f.read(65536)
        if not b:
            break
        if 0 <= stall_after < sent + len(b):
            c.sendall(b[:stall_after - sent])
            c.recv(1)  # hold the stream open, silent, until the client gives up
            sys.exit(0)
        c.sendall(b)
        sent += len(b)
c.close()
`

// limeTarget is an sshd with stand-in insmod, rmmod and sudo on its PATH
// and a module dir holding a fake module for this kernel.
type limeTarget struct {
	*target
	ModuleDir string
	Image     string
	Marks     string
	Iomem     string // stand-in /proc/iomem (iomem_path), listing testRanges
}

func startLimeTarget(t *testing.T, image []byte, stallAfter int) *limeTarget {
	t.Helper()
	py := testenv.LookPath(t, "python3")
	lt := &limeTarget{target: startTarget(t), ModuleDir: t.TempDir(), Marks: t.TempDir()}
	lt.Image = filepath.Join(lt.Dir, "image.lime")
	lt.Iomem = filepath.Join(lt.Dir, "iomem")
	if err := os.WriteFile(lt.Iomem, []byte(iomemText(testRanges...)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lt.Image, image, 0o600); err != nil {
		t.Fatal(err)
	}
	server := filepath.Join(lt.Dir, "limeserve.py")
	if err := os.WriteFile(server, []byte(limeServer), 0o600); err != nil {
		t.Fatal(err)
	}
	lt.WriteScript(t, "insmod", fmt.Sprintf(`#!/bin/sh
echo "$@" > %[1]s/insmod.args
port=$(echo "$2" | sed -n 's/.*path=tcp:\([0-9]*\).*/\1/p')
exec %[2]s %[3]s "$port" %[4]s %[5]d
`, lt.Marks, py, server, lt.Image, stallAfter))
	lt.WriteScript(t, "rmmod", fmt.Sprintf("#!/bin/sh\necho \"$@\" >> %s/rmmod.called\n", lt.Marks))
	lt.WriteScript(t, "sudo", fmt.Sprintf("#!/bin/sh\n[ \"$1\" = -n ] || exit 9\nshift\necho \"$@\" >> %s/sudo.log\nexec \"$@\"\n", lt.Marks))
	rel, err := exec.Command("uname", "-r").Output()
	if err != nil {
		t.Fatal(err)
	}
	randomFile(t, filepath.Join(lt.ModuleDir, "lime-"+strings.TrimSpace(string(rel))+".ko"), 64<<10, 7)
	return lt
}

func (lt *limeTarget) limeParams(extra map[string]any) map[string]any {
	// Short keepalives run alongside every LiME stream (under -race).
	p := map[string]any{"method": "lime", "module_dir": lt.ModuleDir, "sudo": true, "keepalive": 200 * time.Millisecond,
		"iomem_path": lt.Iomem}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

// checkCleanedUp asserts the uploaded module is gone and rmmod ran.
func (lt *limeTarget) checkCleanedUp(t *testing.T, remotePath string) {
	t.Helper()
	if remotePath == "" {
		t.Fatal("no remote_module_path in outputs")
	}
	if _, err := os.Stat(remotePath); !os.IsNotExist(err) {
		t.Errorf("uploaded module %s still on the target (stat: %v)", remotePath, err)
	}
	called, err := os.ReadFile(filepath.Join(lt.Marks, "rmmod.called"))
	if err != nil || strings.TrimSpace(string(called)) != "lime" {
		t.Errorf("rmmod marker = %q, %v; want rmmod lime to have run", called, err)
	}
}

// limeImage builds a LiME image of the given ranges with random contents.
func limeImage(seed uint64, ranges ...[2]uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	var b []byte
	for _, rg := range ranges {
		b = appendLimeRange(b, rg[0], rg[1])
		for i := rg[0]; i <= rg[1]; i++ {
			b = append(b, byte(r.Uint32()))
		}
	}
	return b
}

// iomemText is a /proc/iomem listing these ranges as System RAM, with the
// reserved and nested lines a real one has around them.
func iomemText(ranges ...[2]uint64) string {
	s := "00000000-00000fff : Reserved\n"
	for _, r := range ranges {
		s += fmt.Sprintf("%08x-%08x : System RAM\n  %08x-%08x : Kernel code\n", r[0], r[1], r[0], r[0]+1)
	}
	return s + "fed00000-fed003ff : PNP0103:00\n"
}

var testRanges = [][2]uint64{{0x1000, 0x9fff}, {0x100000, 0x2fffff}, {0x10000000, 0x107fffff}}

func TestLimeCaptureThroughTunnel(t *testing.T) {
	img := limeImage(3, testRanges...)
	sum := sha256.Sum256(img)
	want := hex.EncodeToString(sum[:])
	lt := startLimeTarget(t, img, -1)
	dir := t.TempDir()
	out, ev, err := runCapture(t, New(Options{}), lt.params(lt.limeParams(map[string]any{"sinks": []any{"file://" + dir}})))
	if err != nil {
		t.Fatalf("capture: %v\nsshd log:\n%s", err, lt.Log())
	}
	if out["sha256"] != want || out["size"] != int64(len(img)) || out["complete"] != true {
		t.Fatalf("outputs sha256=%v size=%v complete=%v, want %s %d true", out["sha256"], out["size"], out["complete"], want, len(img))
	}
	if got := fileSHA256(t, pathFromFileURI(uris(t, out)[0])); got != want {
		t.Fatalf("stored image sha256 = %s, want %s", got, want)
	}
	ranges, _ := out["lime_ranges"].([]any)
	if len(ranges) != len(testRanges) {
		t.Fatalf("lime_ranges = %v, want %d ranges", out["lime_ranges"], len(testRanges))
	}
	for i, r := range ranges {
		m := r.(map[string]any)
		if m["start"] != testRanges[i][0] || m["end"] != testRanges[i][1] {
			t.Errorf("range %d = %v, want %#x-%#x", i, m, testRanges[i][0], testRanges[i][1])
		}
	}
	args, _ := os.ReadFile(filepath.Join(lt.Marks, "insmod.args"))
	if !strings.Contains(string(args), "localhostonly=1") || !strings.Contains(string(args), "format=lime") {
		t.Errorf("insmod args = %q, want format=lime localhostonly=1", args)
	}
	if log, _ := os.ReadFile(filepath.Join(lt.Marks, "sudo.log")); !strings.Contains(string(log), "insmod") {
		t.Errorf("sudo log = %q, want insmod run through sudo -n", log)
	}
	lt.checkCleanedUp(t, fmt.Sprint(out["remote_module_path"]))
	if out["expected_size_from"] != "iomem" || out["expected_size"] != int64(len(img)) || out["iomem"] != "read" {
		t.Errorf("expected_size=%v from %v, iomem=%v; want %d from iomem", out["expected_size"], out["expected_size_from"], out["iomem"], len(img))
	}
	if out["insmod_result"] != "exited 0" {
		t.Errorf("insmod_result = %v, want exited 0", out["insmod_result"])
	}
	if out["module_sha256"] != fileSHA256(t, filepath.Join(lt.ModuleDir, fmt.Sprint(out["module"]))) {
		t.Errorf("module_sha256 = %v, want the local module's hash", out["module_sha256"])
	}
	if len(ev.Records()) != 1 || !ev.Records()[0].Complete {
		t.Fatalf("records = %+v, want one complete artifact", ev.Records())
	}
}

func TestFailedCapturesAreIncomplete(t *testing.T) {
	good := limeImage(4, testRanges...)
	corrupt := append([]byte(nil), good...)
	corrupt[32+0x9000] ^= 0xff // the second header's magic
	tests := []struct {
		name       string
		image      []byte
		stallAfter int
		extra      map[string]any
		want       error
	}{
		{name: "stall", image: good, stallAfter: 1 << 20, extra: map[string]any{"stall_timeout": time.Second}, want: ErrStalled},
		{name: "ends inside a range", image: good[:len(good)-4096], stallAfter: -1, want: ErrTruncated},
		{name: "shorter than expected_size", image: good, stallAfter: -1, extra: map[string]any{"expected_size": len(good) + 4096}, want: ErrTruncated},
		{name: "corrupt header", image: corrupt, stallAfter: -1, want: ErrLiMEFormat},
		// Ends cleanly on a range boundary: only /proc/iomem tells.
		{name: "2 of 3 ranges", image: limeImage(4, testRanges[:2]...), stallAfter: -1, want: ErrTruncated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lt := startLimeTarget(t, tc.image, tc.stallAfter)
			dir := t.TempDir()
			extra := map[string]any{"sinks": []any{"file://" + dir}}
			for k, v := range tc.extra {
				extra[k] = v
			}
			out, ev, err := runCapture(t, New(Options{}), lt.params(lt.limeParams(extra)))
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			if out["complete"] != false {
				t.Fatalf("outputs complete = %v, want false", out["complete"])
			}
			if len(ev.Records()) != 1 || ev.Records()[0].Complete {
				t.Fatalf("records = %+v, want one artifact with Complete=false", ev.Records())
			}
			p := pathFromFileURI(ev.Records()[0].URI)
			if !strings.HasSuffix(p, ".partial") {
				t.Fatalf("partial artifact at %s, want a *.partial name", p)
			}
			if got := fileSHA256(t, p); got != ev.Records()[0].SHA256 {
				t.Fatalf("partial file hashes to %s, record says %s", got, ev.Records()[0].SHA256)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Fatalf("sink dir holds %d files, want only the partial one", len(entries))
			}
			lt.checkCleanedUp(t, fmt.Sprint(out["remote_module_path"]))
		})
	}
}

// TestCancelledCaptureIsIncomplete: the step's timeout ends a silent
// stream; the partial image is still recorded, incomplete, and the module
// is still unloaded. The timeout is the test's: it fires once the 1 MiB
// the target sends before falling silent has been written, however long
// the machine took to get there.
func TestCancelledCaptureIsIncomplete(t *testing.T) {
	lt := startLimeTarget(t, limeImage(5, testRanges...), 1<<20)
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	timeout := &cancelAfter{bytes: 1 << 20, cancel: func() { cancel(fmt.Errorf("step timeout: %w", context.DeadlineExceeded)) }}
	ev := newEvidence(t.TempDir())
	out, err := New(Options{Progress: timeout}).Run(ctx, &engine.StepInput{StepID: "memory", Attempt: 1, Evidence: ev,
		Params: lt.params(lt.limeParams(map[string]any{"sinks": []any{"file://" + t.TempDir()}}))})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want the deadline", err)
	}
	if len(ev.Records()) != 1 || ev.Records()[0].Complete || ev.Records()[0].Size != 1<<20 {
		t.Fatalf("records = %+v, want one incomplete of 1 MiB", ev.Records())
	}
	if r, _ := ev.Records()[0].Meta["lime_ranges"].([]LimeRange); len(r) == 0 {
		t.Fatalf("record meta = %v, want the LiME ranges seen so far", ev.Records()[0].Meta)
	}
	lt.checkCleanedUp(t, fmt.Sprint(out["remote_module_path"]))
}

// cancelAfter is a Progress that calls cancel once the capture has
// written bytes: a timeout that fires at a point of the stream, not of
// the clock.
type cancelAfter struct {
	bytes, seen int64
	cancel      func()
}

func (c *cancelAfter) Start(string, int64) ProgressTracker { return c }
func (c *cancelAfter) Done(error)                          {}
func (c *cancelAfter) Add(n int64) {
	if c.seen < c.bytes && c.seen+n >= c.bytes {
		c.cancel()
	}
	c.seen += n
}

// TestSwappedModuleIsRefused: a file changed on the target between upload
// and insmod (here by a stand-in wc that rewrites one byte once it has
// counted, as an intruder with the login user's rights could) is never
// loaded: the hash is checked in the shell that then runs insmod.
func TestSwappedModuleIsRefused(t *testing.T) {
	lt := startLimeTarget(t, limeImage(6, testRanges...), -1)
	lt.WriteScript(t, "wc", `#!/bin/sh
f=$(readlink /proc/$$/fd/0)
n=$(/usr/bin/wc "$@")
case "$f" in /tmp/firebreak-*) printf x | dd of="$f" bs=1 seek=100 conv=notrunc status=none ;; esac
echo "$n"
`)
	out, _, err := runCapture(t, New(Options{}), lt.params(lt.limeParams(map[string]any{"sinks": []any{"file://" + t.TempDir()}})))
	if err == nil || !strings.Contains(err.Error(), "no longer matches the sha256 sent") {
		t.Fatalf("error = %v, want the swapped module refused", err)
	}
	if args, rerr := os.ReadFile(filepath.Join(lt.Marks, "insmod.args")); rerr == nil {
		t.Fatalf("insmod ran (args %q), want it never started on a swapped module", args)
	}
	if p := fmt.Sprint(out["remote_module_path"]); out != nil && fileExists(p) {
		t.Errorf("uploaded module %s still on the target", p)
	}
}

// TestHostileKernelRelease: a release that is not a plain version string
// never becomes part of a local path or an unquoted message.
func TestHostileKernelRelease(t *testing.T) {
	lt := startLimeTarget(t, limeImage(7, testRanges...), -1)
	lt.WriteScript(t, "uname", "#!/bin/sh\nprintf '6.1\\033[2J..x\\n'\n")
	_, _, err := runCapture(t, New(Options{}), lt.params(lt.limeParams(map[string]any{"sinks": []any{"file://" + t.TempDir()}})))
	if err == nil || !strings.Contains(err.Error(), `unusable kernel release "6.1\x1b[2J..x"`) {
		t.Fatalf("error = %v, want the release refused, quoted", err)
	}
}

// TestLimeAlreadyLoadedIsRefused: a lime module already in /proc/modules
// is neither unloaded nor loaded over; the capture stops and says why.
func TestLimeAlreadyLoadedIsRefused(t *testing.T) {
	lt := startLimeTarget(t, limeImage(8, testRanges...), -1)
	lt.WriteScript(t, "cat", `#!/bin/sh
if [ "$1" = /proc/modules ]; then echo 'lime 20480 0 - Live 0x0000000000000000 (O)'; exit 0; fi
exec /usr/bin/cat "$@"
`)
	_, _, err := runCapture(t, New(Options{}), lt.params(lt.limeParams(map[string]any{"sinks": []any{"file://" + t.TempDir()}})))
	if err == nil || !strings.Contains(err.Error(), "a lime module is already loaded") {
		t.Fatalf("error = %v, want the loaded module refused", err)
	}
	for _, f := range []string{"insmod.args", "rmmod.called"} {
		if b, err := os.ReadFile(filepath.Join(lt.Marks, f)); err == nil {
			t.Errorf("%s = %q, want neither insmod nor rmmod run", f, b)
		}
	}
}

// TestCleanupRedialsAfterConnectionDies: the SSH connection is killed
// mid-stream (at the first bytes, the test kills the target's sshd
// process serving it); the capture fails, and the module is still
// unloaded and removed over a new connection pinned to the same host key.
func TestCleanupRedialsAfterConnectionDies(t *testing.T) {
	lt := startLimeTarget(t, limeImage(9, testRanges...), 1<<20)
	kill := &killOnFirstBytes{t: t, dir: lt.Dir}
	out, _, err := runCapture(t, New(Options{Progress: kill}), lt.params(lt.limeParams(map[string]any{"sinks": []any{"file://" + t.TempDir()}})))
	if !kill.killed {
		t.Fatal("the connection was never killed")
	}
	if err == nil || out["complete"] != false {
		t.Fatalf("error = %v, complete = %v; want a failed capture", err, out["complete"])
	}
	if ce, ok := out["cleanup_errors"]; ok {
		t.Fatalf("cleanup_errors = %v, want cleanup done over a new connection", ce)
	}
	lt.checkCleanedUp(t, fmt.Sprint(out["remote_module_path"]))
}

// killOnFirstBytes is a Progress that kills the sshd processes serving
// connections (children of the listener) when the first bytes arrive.
type killOnFirstBytes struct {
	t      *testing.T
	dir    string
	killed bool
}

func (k *killOnFirstBytes) Start(string, int64) ProgressTracker { return k }
func (k *killOnFirstBytes) Done(error)                          {}
func (k *killOnFirstBytes) Add(int64) {
	if k.killed {
		return
	}
	k.killed = true
	b, err := os.ReadFile(filepath.Join(k.dir, "sshd.pid"))
	if err != nil {
		k.t.Errorf("reading sshd's pid: %v", err)
		return
	}
	listener := strings.TrimSpace(string(b))
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		st, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		f := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+1:]))
		if len(f) > 1 && f[1] == listener {
			pid, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(p, "/proc/"), "/stat"))
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// TestLimeExitAfterFailedCopy: after a failed copy insmod is not waited
// for (it may hold a stalled stream open until rmmod).
func TestLimeExitAfterFailedCopy(t *testing.T) {
	res, err := limeExit(make(chan error), true)
	if err != nil || res != "not waited for: the copy had failed" {
		t.Fatalf("limeExit = %q, %v; want not waited for", res, err)
	}
	done := make(chan error, 1)
	done <- errors.New("exit status 1")
	if _, err := limeExit(done, false); err == nil {
		t.Fatal("a failed insmod after a whole stream was accepted")
	}
}
