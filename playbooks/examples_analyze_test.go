package playbooks_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestAnalyzeEvidenceExample runs examples/analyze-evidence.yaml here (no
// workstation) on an ext4 image holding a miner's configuration: the
// rules the playbook names (examples/rules, found beside the playbook
// file) find it, and the timeline lists the file.
func TestAnalyzeEvidenceExample(t *testing.T) {
	for _, tool := range []string{"mmls", "fls", "yara"} {
		testenv.LookPath(t, tool)
	}
	mkfs := testenv.LookPath(t, "mkfs.ext4", "/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4")
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "config.json"), []byte(`{"url": "stratum+tcp://pool.example:3333", "donate-level": 1, "comment": "xmrig"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(t.TempDir(), "volume.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 8<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(mkfs, "-q", "-F", "-d", src, img).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v: %s", err, out)
	}
	r := runPlaybook(t, "analyze-evidence.yaml", map[string]any{"device": img}, nil)
	if r.res.Status != engine.RunSucceeded {
		for _, s := range r.res.Steps {
			t.Logf("step %s: %s %s %s", s.ID, s.Status, s.Error, s.SkipReason)
		}
		t.Fatalf("run: %s (%v)", r.res.Status, r.err)
	}
	disk, _ := r.res.Step("disk")
	if disk.Outputs["matches"] == 0 || disk.Outputs["matches"] == nil {
		t.Fatalf("disk outputs %v: want the miner found", disk.Outputs)
	}
	var rep struct {
		Matches []struct {
			Rule      string `json:"rule"`
			Namespace string `json:"namespace"`
		} `json:"matches"`
		Rules map[string]string `json:"rules"`
	}
	b, err := os.ReadFile(filepath.Join(localPath(disk.Outputs["yara_matches"].(string))))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(filepath.Join("..", "examples", "rules", "linux-implants.yar"))
	if rep.Rules["f0_linux_implants"] != abs {
		t.Errorf("rules %v, want f0_linux_implants from %s", rep.Rules, abs)
	}
	found := false
	for _, m := range rep.Matches {
		found = found || m.Rule == "xmrig_miner"
	}
	if !found {
		t.Errorf("matches %+v, want xmrig_miner", rep.Matches)
	}
	if n, _ := disk.Outputs["entries"].(int); n == 0 {
		t.Errorf("timeline entries %v, want the image's files", disk.Outputs["entries"])
	}
}

func localPath(uri string) string {
	if len(uri) > 7 && uri[:7] == "file://" {
		return uri[7:]
	}
	return uri
}
