package testenv

import (
	"os/exec"
	"strings"
	"testing"
)

func TestStartSSHDRunsCommandsWithPrivatePath(t *testing.T) {
	s := StartSSHD(t)
	s.WriteScript(t, "firebreak-probe", "#!/bin/sh\necho probe-ok\n")
	ssh := LookPath(t, "ssh")
	known := s.Dir + "/known_hosts"
	writeFile(t, known, "[127.0.0.1]:"+itoa(s.Port)+" "+s.HostKey+"\n")
	out, err := exec.Command(ssh, "-i", s.ClientKey, "-p", itoa(s.Port),
		"-o", "UserKnownHostsFile="+known, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
		s.User+"@"+s.Host, "firebreak-probe").CombinedOutput()
	if err != nil {
		t.Fatalf("ssh: %v: %s\nsshd log:\n%s", err, out, s.Log())
	}
	if got := strings.TrimSpace(string(out)); !strings.HasSuffix(got, "probe-ok") {
		t.Fatalf("got %q, want output ending in probe-ok", got)
	}
}
