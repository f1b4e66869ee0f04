package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// MountTmpfs mounts a tmpfs of size ("64k") on dir, made when missing, and
// unmounts it when the test ends: a real disk that fills up. It needs root
// and mount; without them the test is skipped, or fails under
// FIREBREAK_REQUIRE_INTEGRATION=1 (CI runs as root, so a full-disk test
// that skipped there would prove nothing).
func MountTmpfs(t testing.TB, dir, size string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "a small tmpfs to fill needs root to mount it")
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		Missing(t, "cannot mount a tmpfs: "+err.Error()+" "+string(out))
		return
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
}
