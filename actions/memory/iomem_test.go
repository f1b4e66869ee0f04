package memory

import (
	"strings"
	"testing"
)

func TestParseIomem(t *testing.T) {
	tests := []struct {
		name, text string
		want       []LimeRange
		err        string
	}{
		{name: "top-level System RAM only", text: iomemText(testRanges...),
			want: []LimeRange{{0x1000, 0x9fff}, {0x100000, 0x2fffff}, {0x10000000, 0x107fffff}}},
		{name: "not root: addresses hidden", text: "00000000-00000000 : System RAM\n00000000-00000000 : System RAM\n", err: "needs root"},
		{name: "none", text: "00000000-00000fff : Reserved\n", err: "no System RAM"},
		{name: "garbage", text: "zz-10 : System RAM\n", err: "not START-END"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseIomem(tc.text)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || len(got) != len(tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("range %d = %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}
