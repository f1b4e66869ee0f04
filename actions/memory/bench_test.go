package memory

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// sshCat is the baseline: OpenSSH's own client streaming the file to
// /dev/null with the cipher the Go client negotiates (aes128-gcm).
func sshCat(b *testing.B, tg *target, known, src string) (wall, cpu time.Duration) {
	b.Helper()
	cmd := exec.Command(testenv.LookPath(b, "ssh"), "-c", "aes128-gcm@openssh.com", "-i", tg.ClientKey, "-p", strconv.Itoa(tg.Port),
		"-o", "UserKnownHostsFile="+known, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
		tg.User+"@"+tg.Host, "cat "+src)
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	cmd.Stdout = devnull
	start := time.Now()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("ssh cat: %v: %s", err, stderr.String())
	}
	return time.Since(start), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// shippedGC sets the collector as cmd/firebreak's main does, so the
// figures are the shipped binary's; the returned func restores it.
func shippedGC() func() {
	gc := debug.SetGCPercent(400)
	limit := debug.SetMemoryLimit(1 << 30)
	return func() { debug.SetGCPercent(gc); debug.SetMemoryLimit(limit) }
}

// BenchmarkCaptureVsSSHCat reports capture throughput as a ratio to the
// ssh-cat baseline measured in the same run (1.0 = as fast as ssh | cat),
// so a noisy shared machine slows both alike. The baseline writes to
// /dev/null, so "shm" (the image on /dev/shm) compares like with like;
// "disk" and "s3" add the sink's own cost and are reported apart.
func BenchmarkCaptureVsSSHCat(b *testing.B) {
	defer shippedGC()()
	for _, kind := range []string{"shm", "disk", "s3"} {
		b.Run(kind, func(b *testing.B) {
			var opts Options
			if kind == "s3" {
				opts.S3 = motoS3(b)
			}
			tg := startTarget(b)
			src := filepath.Join(b.TempDir(), "mem.img")
			const size = 512 << 20
			randomFile(b, src, size, 40)
			known := filepath.Join(b.TempDir(), "known_hosts")
			if err := os.WriteFile(known, []byte(fmt.Sprintf("[%s]:%d %s\n", tg.Host, tg.Port, tg.HostKey)), 0o600); err != nil {
				b.Fatal(err)
			}
			var ours, base, oursCPU, baseCPU time.Duration
			b.SetBytes(size)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				sink := "s3://evidence/bench"
				extra := map[string]any{"method": "raw", "source": src}
				switch kind {
				case "shm":
					sink = "file://" + shmDir(b)
				case "disk":
					sink = "file://" + b.TempDir()
				}
				extra["sinks"] = []any{sink}
				w, c := sshCat(b, tg, known, src)
				base, baseCPU = base+w, baseCPU+c
				cpu0 := selfCPU()
				start := time.Now()
				in := &engine.StepInput{StepID: "memory", Attempt: i + 1, Evidence: newEvidence(b.TempDir()),
					Params: tg.params(extra)}
				if _, err := New(opts).Run(b.Context(), in); err != nil {
					b.Fatalf("capture: %v", err)
				}
				ours += time.Since(start)
				oursCPU += selfCPU() - cpu0
			}
			b.StopTimer()
			mib := float64(size) * float64(b.N) / (1 << 20)
			b.ReportMetric(mib/ours.Seconds(), "capture-MiB/s")
			b.ReportMetric(mib/base.Seconds(), "sshcat-MiB/s")
			b.ReportMetric(base.Seconds()/ours.Seconds(), "ratio-to-sshcat")
			// CPU per GiB of the client side: on a 2-core machine shared
			// with sshd, the client's extra CPU (hashing, the sinks) is
			// what the ratio pays for.
			gib := mib / 1024
			b.ReportMetric(oursCPU.Seconds()/gib, "capture-cpu-s/GiB")
			b.ReportMetric(baseCPU.Seconds()/gib, "sshcat-cpu-s/GiB")
		})
	}
}

// BenchmarkCapturePeakRSS streams 2 GiB (a sparse file: zeros, no disk
// reads) in a child process and reports the child's peak RSS (VmHWM), which
// is what a capture costs in memory whatever the image size.
func BenchmarkCapturePeakRSS(b *testing.B) {
	for _, kind := range []string{"file", "s3"} {
		b.Run(kind, func(b *testing.B) {
			var peak float64
			for i := 0; i < b.N; i++ {
				cmd := exec.Command(os.Args[0], "-test.run=^TestPeakRSSChild$", "-test.count=1")
				cmd.Env = append(os.Environ(), "FIREBREAK_PEAK_CHILD="+kind)
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("child: %v\n%s", err, out)
				}
				kb := parseMarker(b, string(out), "PEAK_VMHWM_KB=")
				peak = max(peak, kb/1024)
			}
			b.ReportMetric(peak, "peak-RSS-MiB")
		})
	}
}

// TestPeakRSSChild is the child of BenchmarkCapturePeakRSS; it does nothing
// in a normal test run.
func TestPeakRSSChild(t *testing.T) {
	kind := os.Getenv("FIREBREAK_PEAK_CHILD")
	if kind == "" {
		t.Skip("only run as the child of BenchmarkCapturePeakRSS")
	}
	defer shippedGC()()
	var opts Options
	sink := "file://" + t.TempDir()
	if kind == "s3" {
		opts.S3 = motoS3(t)
		sink = "s3://evidence/peak"
	}
	tg := startTarget(t)
	src := filepath.Join(t.TempDir(), "zeros.img")
	const size = 2 << 30
	if err := os.Truncate(createEmpty(t, src), size); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCapture(t, New(Options{S3: opts.S3}), tg.params(map[string]any{"method": "raw", "source": src, "sinks": []any{sink}}))
	if err != nil || out["size"] != int64(size) {
		t.Fatalf("capture: size %v, %v", out["size"], err)
	}
	fmt.Printf("PEAK_VMHWM_KB=%d\n", vmHWM(t))
}

func createEmpty(t testing.TB, p string) string {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

func vmHWM(t testing.TB) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}

func parseMarker(b *testing.B, out, marker string) float64 {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), marker); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return n
			}
		}
	}
	b.Fatalf("no %s in child output:\n%s", marker, out)
	return 0
}

// shmDir is a directory in memory (/dev/shm), so a file sink costs what
// the baseline's /dev/null does, near nothing.
func shmDir(b *testing.B) string {
	d, err := os.MkdirTemp("/dev/shm", "fb-bench-")
	if err != nil {
		b.Skipf("no /dev/shm: %v", err)
	}
	b.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// selfCPU is this process's user+system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
