package analysis

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestIndicatorRuleCannotBeInjected: a finding's domain is attacker
// controlled. One written to close the string and add a rule matching
// everything is looked for literally, and nothing else matches.
func TestIndicatorRuleCannotBeInjected(t *testing.T) {
	needTools(t, "yara")
	hostile := `evil.example" condition: true } rule pwned { condition: true } rule x { strings: $a = "`
	ind := Indicators{IPs: []string{"198.51.100.77"}, Domains: []string{"c2.example.net", hostile}}
	r, ids := indicatorRule(ind)
	if strings.Count(r.Text, "rule ") != 1 {
		t.Fatalf("the rule text holds more than one rule:\n%s", r.Text)
	}
	data := filepath.Join(t.TempDir(), "mem.bin")
	content := "noise " + hostile + " noise 198.51.100.77 and 198.51.100.770 and C2.EXAMPLE.NET\x00 \x02c2\x07example\x03net\x00"
	if err := os.WriteFile(data, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := sweep(testenv.Context(t), localHost{}, []ruleSource{r}, ind, ids, target{Path: data}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range rep.Matches {
		if m.Rule != "finding_indicators" {
			t.Errorf("match of rule %q: the finding added a rule", m.Rule)
		}
		got = append(got, fmt.Sprintf("%s@%d=%s", m.String, m.Offset, m.Indicator))
	}
	slices.Sort(got)
	want := []string{
		fmt.Sprintf("$dns0@%d=c2.example.net", strings.Index(content, "\x02c2")),
		fmt.Sprintf("$domain0@%d=c2.example.net", strings.Index(content, "C2.EXAMPLE")),
		fmt.Sprintf("$domain1@%d=%s", strings.Index(content, "evil.example"), hostile),
		fmt.Sprintf("$ip0@%d=198.51.100.77", strings.Index(content, "198.51.100.77 ")),
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("matches:\ngot  %v\nwant %v\n(198.51.100.770 must not match: fullword)", got, want)
	}
}

// TestFindingIndicators reads the remote addresses and domains of each
// shape a GuardDuty finding comes in, and never the instance's own.
func TestFindingIndicators(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		finding map[string]any
		want    Indicators
	}{
		{name: "eventbridge network connection", finding: map[string]any{"resource": map[string]any{"privateIpAddress": "10.0.1.23"},
			"service": map[string]any{"action": map[string]any{"networkConnectionAction": map[string]any{
				"remoteIpDetails": map[string]any{"ipAddressV4": "198.51.100.77"}}}}},
			want: Indicators{IPs: []string{"198.51.100.77"}}},
		{name: "api dns request", finding: map[string]any{"Service": map[string]any{"Action": map[string]any{"DnsRequestAction": map[string]any{
			"Domain": "c2.example.net."}}}}, want: Indicators{Domains: []string{"c2.example.net"}}},
		{name: "port probes", finding: map[string]any{"service": map[string]any{"action": map[string]any{"portProbeAction": map[string]any{
			"portProbeDetails": []any{map[string]any{"remoteIpDetails": map[string]any{"ipAddressV4": "203.0.113.9"}},
				map[string]any{"remoteIpDetails": map[string]any{"ipAddressV6": "2001:db8::1"}}}}}}},
			want: Indicators{IPs: []string{"2001:db8::1", "203.0.113.9"}}},
		{name: "asff product fields", finding: map[string]any{"ProductFields": map[string]any{
			"aws/guardduty/service/action/networkConnectionAction/remoteIpDetails/ipAddressV4": "198.51.100.77",
			"aws/guardduty/service/action/dnsRequestAction/domain":                             "c2.example.net"}},
			want: Indicators{IPs: []string{"198.51.100.77"}, Domains: []string{"c2.example.net"}}},
		{name: "not an address", finding: map[string]any{"service": map[string]any{"action": map[string]any{"x": map[string]any{"ipAddressV4": "not-an-ip"}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := findingIndicators(tc.finding)
			if !slices.Equal(got.IPs, tc.want.IPs) || !slices.Equal(got.Domains, tc.want.Domains) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestYaraOnTheDisk: analyze-disk sweeps the device with the playbook's
// rules (a file beside the playbook) and each match is where it says.
func TestYaraOnTheDisk(t *testing.T) {
	needTools(t, "mmls", "fls", "yara")
	img := sampleImage(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	rule := "rule png_header { strings: $png = { 89 50 4E 47 0D 0A 1A 0A } condition: $png }\n"
	if err := os.WriteFile(filepath.Join(dir, "rules", "images.yar"), []byte(rule), 0o600); err != nil {
		t.Fatal(err)
	}
	tc := newCase(t)
	in := &engine.StepInput{RunID: "run-analysis", CaseID: tc.id, StepID: "disk", Attempt: 1, Evidence: tc.c.Evidence("disk"),
		PlaybookDir: dir, Params: engine.Params{"device": img, "rules": []any{"rules"}}}
	out, err := (&disk{}).Run(testenv.Context(t), in)
	if err != nil {
		t.Fatal(err)
	}
	var rep YaraReport
	readJSON(t, tc.read(t, out["yara_matches"].(string)), &rep)
	if rep.Count == 0 || rep.Count != out["matches"] || len(rep.Matches) != rep.Count {
		t.Fatalf("count %d, outputs %v, kept %d: want matches, all kept", rep.Count, out["matches"], len(rep.Matches))
	}
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range rep.Matches {
		if m.Rule != "png_header" || m.Namespace != "f0_images" || m.Length != 8 {
			t.Errorf("match %+v, want png_header of f0_images, 8 bytes", m)
		}
		if !bytes.Equal(raw[m.Offset:m.Offset+8], []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("match at %d: the image holds %q there", m.Offset, raw[m.Offset:m.Offset+8])
		}
	}
	if want := bytes.Count(raw, []byte("\x89PNG\r\n\x1a\n")); rep.Count != want {
		t.Errorf("%d matches, the image holds the header %d times", rep.Count, want)
	}
	tc.verify(t)
}

// TestYaraWindowsSeeWhatAWholeScanSees: a block device is scanned in
// windows (YARA cannot map a device); a string across a window's end, and
// every other, is reported once at its offset, as a whole scan reports it.
func TestYaraWindowsSeeWhatAWholeScanSees(t *testing.T) {
	needTools(t, "yara", "dd")
	const w = 2 << 20
	data := make([]byte, 5*w+12345)
	plant := map[int]string{10: "FBMARK-start", w - 5: "FBMARK-across-1", 2*w + 100: "FBMARK-middle", 3*w - 1: "FBMARK-across-3", len(data) - 20: "FBMARK-end"}
	for off, s := range plant {
		copy(data[off:], s)
	}
	path := filepath.Join(t.TempDir(), "dev.img")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	src := []ruleSource{{Name: "inline", Text: `rule mark { strings: $m = /FBMARK-[a-z0-9-]+/ condition: $m }`}}
	offsets := func(block bool) []int64 {
		rep, err := sweep(testenv.Context(t), localHost{}, src, Indicators{}, nil, target{Path: path, Block: block, Size: int64(len(data))}, w, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, m := range rep.Matches {
			out = append(out, m.Offset)
		}
		slices.Sort(out)
		return out
	}
	var want []int64
	for off := range plant {
		want = append(want, int64(off))
	}
	slices.Sort(want)
	if got := offsets(false); !slices.Equal(got, want) {
		t.Errorf("whole scan: %v, want %v", got, want)
	}
	if got := offsets(true); !slices.Equal(got, want) {
		t.Errorf("windows of %d bytes: %v, want %v", w, got, want)
	}
}
