package analysis

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ruleSource is one YARA rules text, scanned in its own namespace so that
// rule names of different files never clash.
type ruleSource struct {
	Name string // namespace: the file's name, "inline" or "indicators"
	Path string // the file it came from, when it did
	Text string
}

// maxRuleBytes bounds the rules read from files (they are small; a huge
// one is a mistake).
const maxRuleBytes = 16 << 20

// ruleFiles reads the rule files named by paths: files, or directories
// whose *.yar and *.yara files are read (not recursively). A relative path
// is relative to the playbook file's directory.
func ruleFiles(paths []string, playbookDir string) ([]ruleSource, error) {
	var out []ruleSource
	var total int
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			if playbookDir == "" {
				return nil, fmt.Errorf("rules %q is relative and a built-in playbook has no directory: give an absolute path or inline_rules", p)
			}
			p = filepath.Join(playbookDir, p)
		}
		files, err := rulePaths(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("reading rules %q: %w", f, err)
			}
			if total += len(b); total > maxRuleBytes {
				return nil, fmt.Errorf("rules: more than %d bytes of rule files", maxRuleBytes)
			}
			out = append(out, ruleSource{Name: namespace(filepath.Base(f), len(out)), Path: f, Text: string(b)})
		}
	}
	return out, nil
}

func rulePaths(p string) ([]string, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("rules %q: %w", p, err)
	}
	if !fi.IsDir() {
		return []string{p}, nil
	}
	var files []string
	for _, pat := range []string{"*.yar", "*.yara"} {
		m, _ := filepath.Glob(filepath.Join(p, pat))
		files = append(files, m...)
	}
	slices.Sort(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("rules directory %q holds no *.yar or *.yara file", p)
	}
	return files, nil
}

// namespace makes a YARA identifier of a file name.
func namespace(name string, i int) string {
	var b strings.Builder
	for _, c := range strings.TrimSuffix(strings.TrimSuffix(name, ".yara"), ".yar") {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return fmt.Sprintf("f%d_%s", i, b.String())
}

// indicatorRule is the YARA rule that finds a finding's indicators, and
// which indicator each string identifier stands for. Every value is
// escaped byte by byte: a hostile domain in a finding can add nothing to
// the rule but a string to look for.
func indicatorRule(ind Indicators) (ruleSource, map[string]string) {
	ids := map[string]string{}
	var s strings.Builder
	s.WriteString("rule finding_indicators\n{\n  meta:\n    description = \"remote addresses and domains of the finding\"\n  strings:\n")
	for i, ip := range ind.IPs {
		id := fmt.Sprintf("$ip%d", i)
		ids[id] = ip
		fmt.Fprintf(&s, "    %s = \"%s\" ascii wide fullword\n", id, yaraEscape(ip))
	}
	for i, d := range ind.Domains {
		id := fmt.Sprintf("$domain%d", i)
		ids[id] = d
		fmt.Fprintf(&s, "    %s = \"%s\" ascii wide nocase fullword\n", id, yaraEscape(d))
		if wire, ok := dnsWire(d); ok {
			id := fmt.Sprintf("$dns%d", i)
			ids[id] = d
			fmt.Fprintf(&s, "    %s = { %s }\n", id, wire)
		}
	}
	s.WriteString("  condition:\n    any of them\n}\n")
	return ruleSource{Name: "indicators", Text: s.String()}, ids
}

// yaraEscape writes s for the inside of a YARA text string: letters,
// digits and ". : - _" as they are, every other byte as \xNN.
func yaraEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == ':' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, `\x%02x`, c)
		}
	}
	return b.String()
}

// dnsWire is the domain as it travels in a DNS message (length-prefixed
// labels), as a YARA hex string: resolver caches and packet buffers hold
// it so.
func dnsWire(domain string) (string, bool) {
	var hex []string
	for _, label := range strings.Split(domain, ".") {
		if label == "" || len(label) > 63 {
			return "", false
		}
		hex = append(hex, fmt.Sprintf("%02x", len(label)))
		for i := 0; i < len(label); i++ {
			hex = append(hex, fmt.Sprintf("%02x", label[i]))
		}
	}
	return strings.Join(hex, " "), true
}

// errNoRules is returned when YARA was asked for but nothing gives a rule.
var errNoRules = errors.New("no YARA rules: give rules, inline_rules, or a finding with remote addresses or domains")
