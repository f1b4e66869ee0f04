package memory

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/firebreak-ir/firebreak/engine"
)

func TestParallelCaptures(t *testing.T) {
	tg := startTarget(t)
	action := New(Options{})
	const n, size = 4, 32 << 20
	srcs, wants := make([]string, n), make([]string, n)
	for i := range n {
		srcs[i] = filepath.Join(t.TempDir(), fmt.Sprintf("mem%d.img", i))
		wants[i] = randomFile(t, srcs[i], size, uint64(10+i))
	}
	dir := t.TempDir()
	outs, errs := make([]engine.Outputs, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := newEvidence(t.TempDir())
			outs[i], errs[i] = action.Run(t.Context(), &engine.StepInput{StepID: "memory", Attempt: 1, Evidence: ev,
				ForEach: true, ItemIndex: i,
				Params: tg.params(map[string]any{"method": "raw", "source": srcs[i], "sinks": []any{"file://" + dir}})})
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("capture %d: %v", i, errs[i])
		}
		if outs[i]["sha256"] != wants[i] {
			t.Errorf("capture %d sha256 = %v, want %s", i, outs[i]["sha256"], wants[i])
		}
		if got := fileSHA256(t, pathFromFileURI(uris(t, outs[i])[0])); got != wants[i] {
			t.Errorf("capture %d stored file hashes to %s, want %s", i, got, wants[i])
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != n {
		t.Fatalf("sink dir holds %d files, want %d (one per item)", len(entries), n)
	}
}

func TestRawShorterThanExpectedSize(t *testing.T) {
	tg := startTarget(t)
	src := filepath.Join(t.TempDir(), "mem.img")
	randomFile(t, src, 1<<20, 21)
	dir := t.TempDir()
	out, ev, err := runCapture(t, New(Options{}), tg.params(map[string]any{
		"method": "raw", "source": src, "expected_size": 2 << 20, "sinks": []any{"file://" + dir}}))
	if !errors.Is(err, ErrTruncated) || !engine.IsRetryable(err) {
		t.Fatalf("error = %v, want a retryable %v", err, ErrTruncated)
	}
	if out["complete"] != false || len(ev.Records()) != 1 || ev.Records()[0].Complete || ev.Records()[0].Size != 1<<20 {
		t.Fatalf("complete=%v records=%+v, want one incomplete record of 1 MiB", out["complete"], ev.Records())
	}
}

func TestNoSinksWritesToEvidenceStore(t *testing.T) {
	tg := startTarget(t)
	src := filepath.Join(t.TempDir(), "mem.img")
	want := randomFile(t, src, 3<<20, 22)
	out, ev, err := runCapture(t, New(Options{}), tg.params(map[string]any{"method": "raw", "source": src}))
	if err != nil {
		t.Fatalf("capture: %v", err)
	}
	if len(ev.Stored()) != 1 || ev.Stored()[0].SHA256 != want || len(ev.Records()) != 0 {
		t.Fatalf("puts=%+v records=%+v, want one Put with sha256 %s", ev.Stored(), ev.Records(), want)
	}
	if u := uris(t, out); len(u) != 1 || u[0] != ev.Stored()[0].URI {
		t.Fatalf("uris = %v, want the evidence store's %s", u, ev.Stored()[0].URI)
	}
}

func TestZstdHashesTheUncompressedStream(t *testing.T) {
	tg := startTarget(t)
	src := filepath.Join(t.TempDir(), "mem.img")
	want := randomFile(t, src, 8<<20, 23)
	out, ev, err := runCapture(t, New(Options{}), tg.params(map[string]any{
		"method": "raw", "source": src, "compress": "zstd", "sinks": []any{"file://" + t.TempDir()}}))
	if err != nil {
		t.Fatalf("capture: %v", err)
	}
	if out["sha256"] != want {
		t.Fatalf("sha256 output = %v, want the uncompressed %s", out["sha256"], want)
	}
	p := pathFromFileURI(uris(t, out)[0])
	if filepath.Ext(p) != ".zst" {
		t.Fatalf("stored as %s, want a .zst name", p)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec, err := zstd.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	h := sha256.New()
	if _, err := io.Copy(h, dec); err != nil {
		t.Fatalf("decompressing %s: %v", p, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Fatalf("decompressed image hashes to %s, want %s", got, want)
	}
	r := ev.Records()[0]
	if r.SHA256 != fileSHA256(t, p) || r.Meta["uncompressed_sha256"] != want {
		t.Fatalf("record sha256=%s meta=%v, want the stored file's hash and uncompressed_sha256 %s", r.SHA256, r.Meta, want)
	}
}

// TestFailedZstdCaptureHashesWhatItStored: a truncated capture's partial
// .zst is a whole zstd stream of every byte that arrived, and the record's
// hash is the file's (run with -race: the encoder's goroutines must be done
// before the hash is read).
func TestFailedZstdCaptureHashesWhatItStored(t *testing.T) {
	tg := startTarget(t)
	src := filepath.Join(t.TempDir(), "mem.img")
	want := randomFile(t, src, 6<<20+12345, 29)
	out, ev, err := runCapture(t, New(Options{}), tg.params(map[string]any{
		"method": "raw", "source": src, "compress": "zstd", "expected_size": 8 << 20, "sinks": []any{"file://" + t.TempDir()}}))
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("error = %v, want %v", err, ErrTruncated)
	}
	if out["sha256"] != want || len(ev.Records()) != 1 || ev.Records()[0].Complete {
		t.Fatalf("sha256 = %v, records = %+v; want %s and one incomplete record", out["sha256"], ev.Records(), want)
	}
	p := pathFromFileURI(ev.Records()[0].URI)
	if got := fileSHA256(t, p); got != ev.Records()[0].SHA256 {
		t.Fatalf("partial file hashes to %s, record says %s", got, ev.Records()[0].SHA256)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec, err := zstd.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	h := sha256.New()
	n, err := io.Copy(h, dec)
	if err != nil || n != out["size"] || hex.EncodeToString(h.Sum(nil)) != want {
		t.Fatalf("partial .zst decodes to %d bytes (%v), hash %x; want %v bytes hashing to %s", n, err, h.Sum(nil), out["size"], want)
	}
}

func TestAvmlCapture(t *testing.T) {
	tg := startTarget(t)
	img := limeImage(24, testRanges...)
	sum := sha256.Sum256(img)
	imgPath := filepath.Join(tg.Dir, "avml-image.lime")
	if err := os.WriteFile(imgPath, img, 0o600); err != nil {
		t.Fatal(err)
	}
	avml := filepath.Join(t.TempDir(), "avml")
	script := fmt.Sprintf("#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'avml 0.14.0'; exit 0; fi\ncat %s > \"$1\"\n", imgPath)
	if err := os.WriteFile(avml, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCapture(t, New(Options{}), tg.params(map[string]any{
		"method": "avml", "avml_path": avml, "sinks": []any{"file://" + t.TempDir()}}))
	if err != nil {
		t.Fatalf("capture: %v", err)
	}
	if out["sha256"] != hex.EncodeToString(sum[:]) || out["avml_version"] != "avml 0.14.0" {
		t.Fatalf("sha256=%v avml_version=%v, want %x and the tool's version", out["sha256"], out["avml_version"], sum)
	}
	if ranges, _ := out["lime_ranges"].([]any); len(ranges) != len(testRanges) {
		t.Fatalf("lime_ranges = %v, want %d", out["lime_ranges"], len(testRanges))
	}
	if p := fmt.Sprint(out["remote_avml_path"]); p == "" || fileExists(p) {
		t.Fatalf("uploaded avml %q still on the target", p)
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestRawDeviceUsesMemTotalAsALowerBound: a character device has no size,
// so MemTotal bounds it from below; /dev/null gives nothing and fails.
func TestRawDeviceUsesMemTotalAsALowerBound(t *testing.T) {
	tg := startTarget(t)
	out, ev, err := runCapture(t, New(Options{}), tg.params(map[string]any{
		"method": "raw", "source": "/dev/null", "sinks": []any{"file://" + t.TempDir()}}))
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "MemTotal") {
		t.Fatalf("error = %v, want %v naming MemTotal", err, ErrTruncated)
	}
	if out["expected_size_from"] != "meminfo (approximate: a lower bound)" || len(ev.Records()) != 1 || ev.Records()[0].Complete {
		t.Fatalf("expected_size_from = %v, records = %+v; want meminfo and one incomplete record", out["expected_size_from"], ev.Records())
	}
}
