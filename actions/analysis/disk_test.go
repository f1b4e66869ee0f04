package analysis

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

var deletedDirs = []string{"/audio2", "/movie2", "/pic2", "/text2"}

// checkSampleTimeline: the sample's one Linux partition was analysed, its
// deleted directories are in the timeline as deleted and its live ones as
// live, and the stored timeline is the one the outputs name.
func checkSampleTimeline(t *testing.T, tc *testCase, out engine.Outputs) []TimelineEntry {
	t.Helper()
	parts := out["partitions"].([]any)
	if len(parts) != 1 {
		t.Fatalf("partitions = %v, want the one Linux partition", parts)
	}
	p := parts[0].(map[string]any)
	if p["slot"] != 2 || p["start_sector"] != int64(2048) || p["description"] != "Linux (0x83)" || p["analyzed"] != true {
		t.Errorf("partition = %v, want slot 2 at sector 2048, Linux (0x83), analyzed", p)
	}
	entries := timelineEntries(t, tc.read(t, out["timeline"].(string)))
	if len(entries) != out["entries"] || len(entries) == 0 {
		t.Fatalf("timeline holds %d entries, outputs say %v", len(entries), out["entries"])
	}
	deleted := map[string]bool{}
	live := map[string]bool{}
	var nDeleted int
	for _, e := range entries {
		if e.Partition != 2 {
			t.Errorf("entry %+v: partition %d, want 2", e, e.Partition)
		}
		if e.Deleted {
			deleted[e.Path] = true
			nDeleted++
		} else {
			live[e.Path] = true
		}
	}
	for _, d := range deletedDirs {
		if !deleted[d] || live[d] {
			t.Errorf("%s: deleted %v, live %v; want it listed as deleted only", d, deleted[d], live[d])
		}
	}
	for _, d := range []string{"/audio1", "/movie1", "/pic1", "/text1", "/pic1/debian.png"} {
		if !live[d] || deleted[d] {
			t.Errorf("%s: live %v, deleted %v; want it listed as live only", d, live[d], deleted[d])
		}
	}
	if nDeleted != out["deleted"] {
		t.Errorf("outputs deleted = %v, timeline has %d", out["deleted"], nDeleted)
	}
	return entries
}

func TestAnalyzeDiskLocal(t *testing.T) {
	needTools(t, "mmls", "fls")
	img := sampleImage(t)
	tc := newCase(t)
	out, err := tc.run(t, &disk{}, "disk", engine.Params{"device": img})
	if err != nil {
		t.Fatal(err)
	}
	if out["host"] != "local" || out["window_start"] != "" {
		t.Errorf("host %v window %v, want local and unbounded", out["host"], out["window_start"])
	}
	checkSampleTimeline(t, tc, out)
	// The stored body file is fls's own output, byte for byte.
	fls, err := exec.Command("fls", "-r", "-m", "/", "-o", "2048", img).Output()
	if err != nil {
		t.Fatal(err)
	}
	body := tc.read(t, out["bodyfiles"].([]any)[0].(string))
	if !bytes.Equal(body, fls) {
		t.Errorf("stored body file differs from fls's output (%d vs %d bytes)", len(body), len(fls))
	}
	rep := tc.verify(t)
	for _, name := range []string{"disk-p2.body", "timeline.jsonl", "timeline.csv"} {
		if !slices.ContainsFunc(rep.Checked, func(id string) bool { return strings.HasSuffix(id, "/disk/"+name) }) {
			t.Errorf("verify did not re-hash %s: checked %v", name, rep.Checked)
		}
	}
}

// TestTimelineCSVIsMactimes: on the real sample the CSV timeline is what
// mactime writes from the same body file, byte for byte.
func TestTimelineCSVIsMactimes(t *testing.T) {
	needTools(t, "mmls", "fls", "mactime")
	img := sampleImage(t)
	tc := newCase(t)
	out, err := tc.run(t, &disk{}, "disk", engine.Params{"device": img})
	if err != nil {
		t.Fatal(err)
	}
	bodyFile := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(bodyFile, tc.read(t, out["bodyfiles"].([]any)[0].(string)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("mactime", "-b", bodyFile, "-d", "-y", "-z", "UTC")
	cmd.Env = append(os.Environ(), "TZ=UTC")
	want, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := tc.read(t, out["timeline_csv"].(string)); !bytes.Equal(got, want) {
		t.Errorf("timeline.csv differs from mactime's:\ngot  %.600s\nwant %.600s", got, want)
	}
}

// TestAnalyzeDiskOverSSH: the same analysis on a workstation reached over
// a real sshd gives the same timeline, hash for hash.
func TestAnalyzeDiskOverSSH(t *testing.T) {
	needTools(t, "mmls", "fls")
	img := sampleImage(t)
	local := newCase(t)
	lout, err := local.run(t, &disk{}, "disk", engine.Params{"device": img})
	if err != nil {
		t.Fatal(err)
	}
	tc := newCase(t)
	out, err := tc.run(t, &disk{}, "disk", merge(sshTarget(t), engine.Params{"device": img}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out["host"].(string), "@127.0.0.1:") || out["host_key_verified_by"] != "pinned" {
		t.Errorf("host %v verified by %v, want the loopback sshd, pinned", out["host"], out["host_key_verified_by"])
	}
	checkSampleTimeline(t, tc, out)
	if a, b := sum(tc.read(t, out["timeline"].(string))), sum(local.read(t, lout["timeline"].(string))); a != b {
		t.Errorf("timeline over SSH %s, locally %s: want the same", a, b)
	}
	tc.verify(t)
}

func sum(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

// TestAnalyzeDiskWindow: bounded around the finding's first and last
// seen, the timeline holds only what happened then.
func TestAnalyzeDiskWindow(t *testing.T) {
	needTools(t, "mmls", "fls")
	img := sampleImage(t)
	tc := newCase(t)
	finding := map[string]any{"service": map[string]any{"eventFirstSeen": "2020-10-27T05:15:31Z", "eventLastSeen": "2020-10-27T05:15:31Z"}}
	out, err := tc.run(t, &disk{}, "disk", engine.Params{"device": img, "finding": finding, "window": "1s", "indicator_rules": false})
	if err != nil {
		t.Fatal(err)
	}
	if out["window_start"] != "2020-10-27T05:15:30Z" || out["window_end"] != "2020-10-27T05:15:32Z" {
		t.Errorf("window %v..%v, want 05:15:30..05:15:32", out["window_start"], out["window_end"])
	}
	entries := checkSampleTimeline(t, tc, out)
	for _, e := range entries {
		if e.Time < "2020-10-27T05:15:30Z" || e.Time > "2020-10-27T05:15:32Z" {
			t.Errorf("entry outside the window: %+v", e)
		}
	}
	// /lost+found was made at 05:15:10 and not touched since.
	if slices.ContainsFunc(entries, func(e TimelineEntry) bool { return e.Path == "/lost+found" }) {
		t.Error("/lost+found (05:15:10) is in a window of 05:15:30-05:15:32")
	}
}
