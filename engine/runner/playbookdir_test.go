package runner

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestPlaybookDir: a step learns the absolute directory of its playbook's
// file (rules kept beside a playbook are found from there), and nothing for
// a built-in playbook.
func TestPlaybookDir(t *testing.T) {
	t.Parallel()
	abs, err := filepath.Abs("playbooks/team")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, source, want string }{
		{name: "file", source: "playbooks/team/x.yaml", want: abs},
		{name: "builtin", source: "builtin:host-compromise.yaml", want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := make(chan string, 1)
			c := newCounter(func(in *engine.StepInput) (engine.Outputs, error) { got <- in.PlaybookDir; return nil, nil })
			pb := playbook(step("a", "do"))
			pb.Source = tc.source
			if _, err := Run(context.Background(), Config{Registry: registry(c.action("do")), Playbook: pb}); err != nil {
				t.Fatal(err)
			}
			if dir := <-got; dir != tc.want {
				t.Errorf("PlaybookDir = %q, want %q", dir, tc.want)
			}
		})
	}
}
