package engine

import "strconv"

// ArtifactName names an artifact base+ext (ext with its dot, e.g. ".txt")
// so that fan-out items and retries of one step never share a name:
// "stdout-item-2.attempt-3.txt". An attempt must not overwrite an artifact
// the manifest already holds, and the evidence store refuses a second Put
// under one name.
func ArtifactName(base, ext string, in *StepInput) string {
	name := base
	if in.ForEach {
		name += "-item-" + strconv.Itoa(in.ItemIndex)
	}
	if in.Attempt > 1 {
		name += ".attempt-" + strconv.Itoa(in.Attempt)
	}
	return name + ext
}
