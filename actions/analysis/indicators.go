package analysis

import (
	"net/netip"
	"slices"
	"strings"
)

// Indicators are what a finding says the attacker used: remote addresses
// and domains (GuardDuty's service.action, in any of the shapes firebreak
// reads findings in).
type Indicators struct {
	IPs     []string `json:"ips"`
	Domains []string `json:"domains"`
}

func (i Indicators) empty() bool { return len(i.IPs) == 0 && len(i.Domains) == 0 }

// maxIndicators bounds what one finding can turn into rules.
const maxIndicators = 256

// findingIndicators collects the remote IPv4/IPv6 addresses and domains
// under the finding's service.action (camelCase from EventBridge,
// PascalCase from GetFindings), and from a Security Hub finding's
// ProductFields ("aws/guardduty/service/action/.../ipAddressV4"). The
// finding's own resource (its instance's addresses) is not looked at.
func findingIndicators(finding map[string]any) Indicators {
	ips, domains := map[string]bool{}, map[string]bool{}
	add := func(key string, v any) {
		s, ok := v.(string)
		if !ok || s == "" {
			return
		}
		switch strings.ToLower(key) {
		case "ipaddressv4", "ipaddressv6":
			if a, err := netip.ParseAddr(s); err == nil {
				ips[a.String()] = true
			}
		case "domain":
			if d := strings.TrimSuffix(strings.TrimSpace(s), "."); d != "" && len(d) <= 253 {
				domains[d] = true
			}
		}
	}
	if action := dig(dig(finding, "service"), "action"); action != nil {
		walk(action, add)
	}
	if pf, ok := dig(finding, "productfields").(map[string]any); ok {
		for k, v := range pf {
			if strings.HasPrefix(k, "aws/guardduty/service/action/") {
				add(k[strings.LastIndex(k, "/")+1:], v)
			}
		}
	}
	out := Indicators{IPs: sortedKeys(ips), Domains: sortedKeys(domains)}
	out.IPs = out.IPs[:min(len(out.IPs), maxIndicators)]
	out.Domains = out.Domains[:min(len(out.Domains), maxIndicators)]
	return out
}

// dig reads key of m, whatever its case.
func dig(v any, key string) any {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	for k, x := range m {
		if strings.EqualFold(k, key) {
			return x
		}
	}
	return nil
}

// walk calls fn for every key and value under v, maps and lists alike.
func walk(v any, fn func(key string, v any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			fn(k, y)
			walk(y, fn)
		}
	case []any:
		for _, y := range x {
			walk(y, fn)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
