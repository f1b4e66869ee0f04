package analysis

import (
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/sshconn"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestMissingToolNamesThePackage: without The Sleuth Kit on the PATH,
// analyze-disk stops before it starts and says what to install.
func TestMissingToolNamesThePackage(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := (&disk{}).Run(testenv.Context(t), &engine.StepInput{StepID: "disk", Attempt: 1,
		Params: engine.Params{"device": "/dev/null", "inline_rules": "rule r { condition: true }"}})
	want := "mmls, fls, yara not found on local: install Debian's sleuthkit and yara (apt-get install sleuthkit yara)"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

// TestMissingToolOverSSH: the workstation's shell is asked, and a tool it
// cannot find is named with where it is missing.
func TestMissingToolOverSSH(t *testing.T) {
	p := sshTarget(t)
	ctx := testenv.Context(t)
	conn, err := engine.Decode[sshconn.Params](engine.Params{"port": p["port"], "user": p["user"], "key_file": p["key_file"], "host_key": p["host_key"]})
	if err != nil {
		t.Fatal(err)
	}
	h, _, done, err := openHost(ctx, &engine.StepInput{}, p["host"].(string), conn, false)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	missing, err := h.missing(ctx, []string{"sh", "firebreak-no-such-tool", "yara-x-not-here"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(missing, ",") != "firebreak-no-such-tool,yara-x-not-here" {
		t.Errorf("missing = %v, want the two that do not exist", missing)
	}
	// A command that is not there exits 127: that too names the tool.
	err = h.run(ctx, []string{"firebreak-no-such-tool"}, nil)
	if _, ok := err.(*missingTool); !ok || !strings.Contains(err.Error(), "firebreak-no-such-tool not found on ") {
		t.Errorf("running a missing tool: %v, want a missingTool error", err)
	}
}
