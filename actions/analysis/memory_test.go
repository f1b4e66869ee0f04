package analysis

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

// limeRange is one range of a synthetic LiME image: physical [Start, End]
// and what to write at offsets into it.
type limeRange struct {
	Start, End uint64
	Plant      map[uint64]string
}

// writeLime writes a LiME image (32-byte header per range: magic "EMiL",
// version 1, start, inclusive end, 8 reserved bytes; then the range). The
// ranges' bytes are holes, so a large image costs no disk.
func writeLime(t testing.TB, path string, ranges []limeRange) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var off int64
	for _, r := range ranges {
		var h [32]byte
		binary.LittleEndian.PutUint32(h[0:], 0x4C694D45)
		binary.LittleEndian.PutUint32(h[4:], 1)
		binary.LittleEndian.PutUint64(h[8:], r.Start)
		binary.LittleEndian.PutUint64(h[16:], r.End)
		if _, err := f.WriteAt(h[:], off); err != nil {
			t.Fatal(err)
		}
		off += 32
		for at, s := range r.Plant {
			if _, err := f.WriteAt([]byte(s), off+int64(at)); err != nil {
				t.Fatal(err)
			}
		}
		off += int64(r.End - r.Start + 1)
	}
	if err := f.Truncate(off); err != nil {
		t.Fatal(err)
	}
}

var c2Finding = map[string]any{"type": "Backdoor:EC2/C&CActivity.B!DNS", "service": map[string]any{"action": map[string]any{
	"actionType": "DNS_REQUEST", "dnsRequestAction": map[string]any{"domain": "c2.evil-domain.example", "protocol": "UDP"}}}}

// TestAnalyzeMemoryLime: a string planted in the second range of a LiME
// image is reported at its physical address, and the finding's C2 domain,
// planted in the first, is found without a rule being written.
func TestAnalyzeMemoryLime(t *testing.T) {
	needTools(t, "yara")
	img := filepath.Join(t.TempDir(), "memory.lime")
	ranges := []limeRange{
		{Start: 0x1000, End: 0x9efff, Plant: map[uint64]string{0x2345: "query c2.evil-domain.example now"}},
		{Start: 0x100000, End: 0x4ffffff, Plant: map[uint64]string{0x123456: "FIREBREAK-PLANTED-7f3a"}},
	}
	writeLime(t, img, ranges)
	tc := newCase(t)
	rule := `rule planted { strings: $p = "FIREBREAK-PLANTED-7f3a" condition: $p }`
	out, err := tc.run(t, &memoryScan{}, "memory", engine.Params{"image": img, "inline_rules": rule, "finding": c2Finding})
	if err != nil {
		t.Fatal(err)
	}
	if out["format"] != "lime" || len(out["lime_ranges"].([]any)) != 2 {
		t.Errorf("format %v ranges %v, want lime with 2 ranges", out["format"], out["lime_ranges"])
	}
	var rep YaraReport
	readJSON(t, tc.read(t, out["yara_matches"].(string)), &rep)
	if rep.Count != 2 || out["matches"] != 2 {
		t.Fatalf("matches %+v, want the planted string and the C2 domain", rep.Matches)
	}
	want := map[string]uint64{"planted": 0x100000 + 0x123456, "finding_indicators": 0x1000 + 0x2345 + uint64(len("query "))}
	for _, m := range rep.Matches {
		if m.PhysicalAddress == nil || *m.PhysicalAddress != want[m.Rule] {
			t.Errorf("%s at offset %d: physical %v, want %#x", m.Rule, m.Offset, m.PhysicalAddress, want[m.Rule])
		}
		if m.Rule == "finding_indicators" && m.Indicator != "c2.evil-domain.example" {
			t.Errorf("indicator match %+v does not name the domain", m)
		}
	}
	if rep.Indicators.Domains[0] != "c2.evil-domain.example" {
		t.Errorf("report indicators %+v", rep.Indicators)
	}
	tc.verify(t)
}

// TestAnalyzeMemoryChecksTheHash: an image that is not the one captured
// (its hash differs from capture-memory's) is refused before a sweep.
func TestAnalyzeMemoryChecksTheHash(t *testing.T) {
	needTools(t, "yara")
	img := filepath.Join(t.TempDir(), "memory.raw")
	if err := os.WriteFile(img, []byte("some memory"), 0o600); err != nil {
		t.Fatal(err)
	}
	tc := newCase(t)
	_, err := tc.run(t, &memoryScan{}, "memory", engine.Params{"image": img, "inline_rules": "rule r { condition: true }",
		"sha256": strings.Repeat("0", 64)})
	if err == nil || !strings.Contains(err.Error(), "it is not the image that was captured") {
		t.Fatalf("error = %v, want a hash mismatch", err)
	}
	if _, err := tc.run(t, &memoryScan{}, "memory", engine.Params{"image": "/dev/zero", "inline_rules": "rule r { condition: true }"}); err == nil ||
		!strings.Contains(err.Error(), "is not a regular file") {
		t.Errorf("a device as the image: %v, want it refused (YARA would sweep it as empty)", err)
	}
	out, err := tc.run(t, &memoryScan{}, "memory", engine.Params{"image": "file://" + img, "inline_rules": "rule r { condition: true }",
		"sha256": sum([]byte("some memory"))})
	if err != nil || out["format"] != "raw" || out["matches"] != 1 || out["image_sha256"] != sum([]byte("some memory")) {
		t.Fatalf("right hash: %v, %v", out, err)
	}
}

// TestAnalyzeMemoryStaysSmall: a 1 GiB LiME image (sparse) is swept
// without being read into memory: what the action allocates stays a tiny
// fraction of the image.
func TestAnalyzeMemoryStaysSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 1 GiB")
	}
	needTools(t, "yara")
	img := filepath.Join(t.TempDir(), "big.lime")
	const half = 512 << 20
	writeLime(t, img, []limeRange{{Start: 0, End: half - 1}, {Start: 4 * half, End: 5*half - 1, Plant: map[uint64]string{half - 100: "FIREBREAK-DEEP"}}})
	tc := newCase(t)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	out, err := tc.run(t, &memoryScan{}, "memory", engine.Params{"image": img, "inline_rules": `rule deep { strings: $d = "FIREBREAK-DEEP" condition: $d }`})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if out["matches"] != 1 {
		t.Fatalf("matches = %v, want the one planted at the end", out["matches"])
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("the sweep of a 1 GiB image allocated %d MiB, want under 64 MiB", alloc>>20)
	}
}
