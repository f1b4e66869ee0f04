package plan

import (
	"bytes"
	"encoding/json"
)

// MarshalJSON writes the plan with "version" and "sha256" always under
// "playbook", even when empty: the plan's JSON has always had both keys,
// where the journal and the manifest leave an empty one out.
func (p Plan) MarshalJSON() ([]byte, error) {
	type plain Plan // without the method: no recursion
	type ref struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		SHA256  string `json:"sha256"`
		Source  string `json:"source,omitempty"`
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "<runtime: ...>" stays readable; json.Marshal escapes it anyway
	err := enc.Encode(struct {
		Playbook ref `json:"playbook"` // shadows plain's
		plain
	}{ref(p.Playbook), plain(p)})
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}
