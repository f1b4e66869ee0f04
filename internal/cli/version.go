package cli

import (
	"runtime/debug"
)

// version and commit are set at build time:
//
//	go build -ldflags "-X github.com/firebreak-ir/firebreak/internal/cli.version=1.0.0 ..."
//
// Without them the module version and VCS revision the Go tool stamped into
// the binary are used.
var (
	version = ""
	commit  = ""
)

// buildVersion returns the version alone (for the manifest's tool field)
// and the line --version prints.
func buildVersion() (ver, full string) {
	ver, rev, dirty := version, commit, false
	if info, ok := debug.ReadBuildInfo(); ok {
		if ver == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			ver = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if rev == "" {
					rev = s.Value
				}
			case "vcs.modified":
				dirty = s.Value == "true" && commit == ""
			}
		}
	}
	if ver == "" {
		ver = "dev"
	}
	full = ver
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if dirty {
			rev += "-dirty"
		}
		full += " (commit " + rev + ")"
	}
	return ver, full
}
