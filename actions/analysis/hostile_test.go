package analysis

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestHostileFileNames: a file system made by the attacker names its
// files as it likes. A name holding the body file's separator would forge
// a mactime entry (here: a file "/x" born on 2020-01-01 with inode 99);
// the timeline keeps it one file under its real name and times. A name
// with quotes and a comma stays one CSV field.
func TestHostileFileNames(t *testing.T) {
	needTools(t, "fls", "mmls", "mactime")
	mkfs := testenv.LookPath(t, "mkfs.ext4", "/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4")
	src := t.TempDir()
	forged := "x|99|r-rrw-r--r--|0|0|5|1577836800|1577836800|1577836800|1577836800"
	for _, name := range []string{forged, `q"uo,te`} {
		if err := os.WriteFile(filepath.Join(src, name), []byte("z"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img := filepath.Join(t.TempDir(), "hostile.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 8<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(mkfs, "-q", "-F", "-d", src, img).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v: %s", err, out)
	}
	tc := newCase(t)
	out, err := tc.run(t, &disk{}, "disk", engine.Params{"device": img})
	if err != nil {
		t.Fatal(err)
	}
	if p := out["partitions"].([]any)[0].(map[string]any); p["slot"] != -1 || p["analyzed"] != true {
		t.Errorf("partition %v, want the whole device (no partition table), analyzed", p)
	}
	entries := timelineEntries(t, tc.read(t, out["timeline"].(string)))
	for _, e := range entries {
		if e.Path == "/x" || e.Inode == "99" || strings.HasPrefix(e.Time, "2020-01-01") {
			t.Errorf("forged entry in the timeline: %+v", e)
		}
	}
	if !slices.ContainsFunc(entries, func(e TimelineEntry) bool { return e.Path == "/"+forged && e.Inode != "99" }) {
		t.Errorf("the file named %q is missing from the timeline", forged)
	}
	csv := string(tc.read(t, out["timeline_csv"].(string)))
	if !strings.Contains(csv, `,"/q""uo,te"`) {
		t.Errorf("timeline.csv does not quote the name q\"uo,te as one field:\n%s", csv)
	}
	// What mactime makes of the same body file: the forged entry.
	body := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(body, tc.read(t, out["bodyfiles"].([]any)[0].(string)), 0o600); err != nil {
		t.Fatal(err)
	}
	mt, err := exec.Command("mactime", "-b", body, "-d", "-y", "-z", "UTC").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mt), `2020-01-01T00:00:00Z,5,macb,r-rrw-r--r--,0,0,99,"/x"`) {
		t.Logf("mactime no longer forges the entry (good); its output:\n%s", mt)
	}
}
