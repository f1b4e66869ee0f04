package memory

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRawCaptureToFileMatchesSource(t *testing.T) {
	tg := startTarget(t)
	src := filepath.Join(t.TempDir(), "memory.img")
	const size = 256 << 20
	want := randomFile(t, src, size, 1)
	if sum := sha256sum(t, src); sum != "" && sum != want {
		t.Fatalf("sha256sum of the source = %s, crypto/sha256 = %s", sum, want)
	}
	dir := t.TempDir()
	out, ev, err := runCapture(t, New(Options{}), tg.params(map[string]any{
		"method": "raw", "source": src, "sinks": []any{"file://" + dir}}))
	if err != nil {
		t.Fatalf("capture: %v\nsshd log:\n%s", err, tg.Log())
	}
	if out["sha256"] != want || out["size"] != int64(size) || out["complete"] != true {
		t.Fatalf("outputs sha256=%v size=%v complete=%v, want %s %d true", out["sha256"], out["size"], out["complete"], want, size)
	}
	u := uris(t, out)
	if len(u) != 1 {
		t.Fatalf("uris = %v, want one", u)
	}
	p := pathFromFileURI(u[0])
	if got := fileSHA256(t, p); got != want {
		t.Fatalf("sha256 of %s = %s, want %s", p, got, want)
	}
	if sum := sha256sum(t, p); sum != "" && sum != want {
		t.Fatalf("sha256sum of %s = %s, want %s", p, sum, want)
	}
	if _, err := os.Stat(p + ".partial"); !os.IsNotExist(err) {
		t.Fatalf("a .partial file is left beside the finished image: %v", err)
	}
	if len(ev.Records()) != 1 || !ev.Records()[0].Complete || ev.Records()[0].SHA256 != want || ev.Records()[0].Size != size {
		t.Fatalf("recorded artifacts = %+v, want one complete with sha256 %s size %d", ev.Records(), want, size)
	}
	d, ok := event(ev, "memory-capture")
	if !ok {
		t.Fatalf("no memory-capture custody event in %+v", ev.Events())
	}
	if pm, _ := d["params"].(map[string]any); pm["method"] != "raw" || pm["source"] != src || d["sha256"] != want || d["complete"] != true {
		t.Fatalf("custody event = %v, want the method, source, hash and completeness", d)
	}
}

// TestRawDeviceIsBoundedByIomem: a memory device sized only by MemTotal
// (a lower bound) is still bounded above by the end of the last System RAM
// range: a target that sends more fails instead of filling the sinks.
func TestRawDeviceIsBoundedByIomem(t *testing.T) {
	tg := startTarget(t)
	iomem := filepath.Join(tg.Dir, "iomem")
	if err := os.WriteFile(iomem, []byte(iomemText([2]uint64{0x1000, 0x3fffff})), 0o600); err != nil {
		t.Fatal(err)
	}
	// The stand-in dd sends 8 MiB, twice what the stand-in iomem allows.
	tg.WriteScript(t, "dd", "#!/bin/sh\nexec head -c 8388608 /dev/zero\n")
	out, _, err := runCapture(t, New(Options{}), tg.params(map[string]any{
		"method": "raw", "source": "/dev/zero", "iomem_path": iomem, "sinks": []any{"file://" + t.TempDir()}}))
	if !errors.Is(err, ErrOversize) || out["complete"] != false {
		t.Fatalf("error = %v, complete = %v; want %v and false", err, out["complete"], ErrOversize)
	}
	if n, _ := out["size"].(int64); n > 0x400000 {
		t.Fatalf("size = %d, want at most the iomem bound %d", n, 0x400000)
	}
}

func TestPreambleIsBounded(t *testing.T) {
	br := bufio.NewReaderSize(strings.NewReader(strings.Repeat("x", 100<<10)), 64<<10)
	if _, err := readPreamble(br); err == nil || !strings.Contains(err.Error(), "more than 4096 bytes") {
		t.Fatalf("error = %v, want the preamble limit", err)
	}
	br = bufio.NewReaderSize(strings.NewReader(strings.Repeat("MemTotal: 1 kB\n", 300)), 64<<10)
	if _, err := readPreamble(br); err == nil {
		t.Fatal("16 lines without the marker accepted")
	}
}
