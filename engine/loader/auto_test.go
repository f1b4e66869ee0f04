package loader

import "testing"

// auto: true is the playbook's consent to be started by `serve --auto`
// for a finding it answers; the catalogue entry carries it.
func TestAutoOptIn(t *testing.T) {
	t.Parallel()
	l := &Loader{Registry: testRegistry()}
	for _, tc := range []struct {
		name string
		src  string
		want bool
	}{
		{name: "absent", src: "name: a\nsteps:\n  - {id: log, action: upload-log}\n", want: false},
		{name: "true", src: "name: a\nauto: true\nsteps:\n  - {id: log, action: upload-log}\n", want: true},
		{name: "false", src: "name: a\nauto: false\nsteps:\n  - {id: log, action: upload-log}\n", want: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pb, err := l.LoadBytes("a.yaml", []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			if pb.Auto != tc.want {
				t.Errorf("Auto = %v, want %v", pb.Auto, tc.want)
			}
		})
	}
}
