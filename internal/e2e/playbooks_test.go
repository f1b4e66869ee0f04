package e2e

import (
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/loader"
)

func loadHost(t *testing.T, file string) *engine.Playbook {
	t.Helper()
	reg, _ := registry(aws.Config{Region: "us-east-1"})
	pb, err := (&loader.Loader{Registry: reg}).LoadFile(filepath.Join("..", "..", file))
	if err != nil {
		t.Fatalf("%s:\n%v", file, err)
	}
	return pb
}

func TestHostPlaybooksValidate(t *testing.T) {
	t.Parallel()
	for _, f := range []string{"playbooks/host-compromise.yaml", "playbooks/host-release.yaml",
		"examples/isolate-tagged.yaml", "examples/notify-sns.yaml"} {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			loadHost(t, f)
		})
	}
}

// TestHostCompromiseStopsOnlyAfterEveryEvidenceStep pins the order the
// playbook promises: gather, then isolate, then snapshot and memory, then
// stop, which depends on all four with no evidence step allowed to fail
// through.
func TestHostCompromiseStopsOnlyAfterEveryEvidenceStep(t *testing.T) {
	t.Parallel()
	pb := loadHost(t, "playbooks/host-compromise.yaml")
	want := map[string][]string{"gather": nil, "isolate": {"gather"}, "disks": {"isolate"}, "memory": {"isolate"},
		"stop": {"gather", "isolate", "disks", "memory"},
		// Related instances are looked at after isolation and never hold up the stop.
		"related": {"isolate"}, "related-metadata": {"related"}}
	for _, s := range pb.Steps {
		if s.ContinueOnError {
			t.Errorf("step %s has continue_on_error: an evidence failure must keep the host running", s.ID)
		}
		if w, ok := want[s.ID]; !ok || len(w) != len(s.Needs) {
			t.Errorf("step %s needs %v, want %v", s.ID, s.Needs, w)
		}
	}
	if len(pb.Finally) != 1 || pb.Finally[0].Action != "upload-log" {
		t.Errorf("finally: got %v, want one upload-log step", pb.Finally)
	}
}
