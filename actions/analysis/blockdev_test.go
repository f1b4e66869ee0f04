package analysis

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestAnalyzeDiskOnABlockDevice: the sample attached read-only to a loop
// device, as an evidence volume is attached to the workstation. YARA run
// directly on the device matches nothing (it maps files by size and a
// device has none); analyze-disk's windows find every match the image
// file holds, and the timeline is the image's.
func TestAnalyzeDiskOnABlockDevice(t *testing.T) {
	needTools(t, "mmls", "fls", "yara", "losetup", "dd")
	img := sampleImage(t)
	out, err := exec.Command("losetup", "-f", "--show", "-r", img).CombinedOutput()
	if err != nil {
		t.Skipf("no loop device here (needs root and /dev/loop*): %v: %s", err, out)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() { exec.Command("losetup", "-d", dev).Run() })

	rule := `rule png_header { strings: $png = { 89 50 4E 47 0D 0A 1A 0A } condition: $png }`
	rules := filepath.Join(t.TempDir(), "png.yar")
	if err := os.WriteFile(rules, []byte(rule), 0o600); err != nil {
		t.Fatal(err)
	}
	direct, err := exec.Command("yara", "-s", rules, dev).Output()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Count(raw, []byte("\x89PNG\r\n\x1a\n"))
	t.Logf("yara directly on %s printed %d bytes; the image holds the PNG header %d times", dev, len(direct), want)

	tc := newCase(t)
	o, err := tc.run(t, &disk{}, "disk", engine.Params{"device": dev, "inline_rules": rule, "yara_window": 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	checkSampleTimeline(t, tc, o)
	if o["matches"] != want || want == 0 {
		t.Errorf("matches on the device: %v, want the %d the image holds", o["matches"], want)
	}
	var rep YaraReport
	readJSON(t, tc.read(t, o["yara_matches"].(string)), &rep)
	if rep.Window != 16<<20 {
		t.Errorf("report window %d, want the device swept in 16 MiB windows", rep.Window)
	}
	for _, m := range rep.Matches {
		if !bytes.Equal(raw[m.Offset:m.Offset+8], []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("match at %d: the device holds %q there", m.Offset, raw[m.Offset:m.Offset+8])
		}
	}
	tc.verify(t)
}
