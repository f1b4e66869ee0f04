package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/firebreak-ir/firebreak/actions/memory"
	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
)

// memoryCapture streams a file of o.MemoryMiB over SSH on loopback with
// capture-memory (method raw, to a local file sink) and with `ssh cat` to
// /dev/null, and reports the throughput ratio and the RSS the process
// grew by while streaming (sampled every 20 ms: a floor on the peak).
func memoryCapture(ctx context.Context, o Options) ([]Row, error) {
	if _, err := os.Stat("/usr/sbin/sshd"); err != nil {
		return nil, fmt.Errorf("memory benchmark needs /usr/sbin/sshd (apt-get install openssh-server)")
	}
	s, err := startSSHD(ctx)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	size := int64(o.MemoryMiB) << 20
	src := filepath.Join(s.dir, "mem.img")
	if err := randomFile(src, size); err != nil {
		return nil, err
	}
	start := time.Now()
	cat := exec.CommandContext(ctx, "ssh", "-c", "aes128-gcm@openssh.com", "-i", s.clientKey, "-p", strconv.Itoa(s.port),
		"-o", "UserKnownHostsFile="+s.knownHosts, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
		s.user+"@127.0.0.1", "cat "+src)
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	defer devnull.Close()
	var stderr strings.Builder
	cat.Stdout, cat.Stderr = devnull, &stderr
	if err := cat.Run(); err != nil {
		return nil, fmt.Errorf("ssh cat: %v: %s", err, stderr.String())
	}
	base := time.Since(start)
	store, err := evidence.NewDirStore(filepath.Join(s.dir, "evidence"))
	if err != nil {
		return nil, err
	}
	c, err := evidence.OpenCase(ctx, store, evidence.Header{CaseID: "cr-bench", RunID: "run-bench"}, nil)
	if err != nil {
		return nil, err
	}
	params := engine.Params{"host": "127.0.0.1", "port": s.port, "user": s.user, "key_file": s.clientKey,
		"known_hosts": s.knownHosts, "sudo": false, "method": "raw", "source": src, "compress": "none",
		"stall_timeout": 60 * time.Second, "sinks": []any{"file://" + filepath.Join(s.dir, "sink")}}
	before := rssKB()
	var peak atomic.Int64
	stop := make(chan struct{})
	go sampleRSS(&peak, stop)
	start = time.Now()
	out, err := memory.New(memory.Options{}).Run(ctx, &engine.StepInput{RunID: "run-bench", CaseID: "cr-bench", StepID: "memory",
		Params: params, Attempt: 1, Evidence: c.Evidence("memory")})
	ours := time.Since(start)
	close(stop)
	if err != nil {
		return nil, fmt.Errorf("capture-memory: %w", err)
	}
	if got, _ := out["size"].(int64); got != size {
		return nil, fmt.Errorf("capture-memory: size %v, want %d", out["size"], size)
	}
	mib := float64(o.MemoryMiB)
	note := fmt.Sprintf("%d MiB over SSH on loopback, file sink", o.MemoryMiB)
	return []Row{
		row("memory/capture-throughput", mib/ours.Seconds(), "MiB/s", mib/base.Seconds(), "ssh cat", note),
		row("memory/rss-growth-while-streaming", float64(peak.Load()-before)/1024, "MiB", mib, "image size", "sampled every 20 ms"),
	}, nil
}

func randomFile(path string, size int64) error {
	f, err := os.Open("/dev/urandom")
	if err != nil {
		return err
	}
	defer f.Close()
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	buf := make([]byte, 1<<20)
	if _, err := f.Read(buf); err != nil {
		return err
	}
	for written := int64(0); written < size; written += int64(len(buf)) {
		buf[0]++ // not all the same MiB, for anything that would dedupe
		if _, err := out.Write(buf[:min(int64(len(buf)), size-written)]); err != nil {
			out.Close()
			return err
		}
	}
	return out.Close()
}

func sampleRSS(peak *atomic.Int64, stop <-chan struct{}) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if kb := rssKB(); kb > peak.Load() {
			peak.Store(kb)
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// rssKB is this process's resident set size (VmRSS) in KiB.
func rssKB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}
