package lambda

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Tags holding a function's pre-containment state on the function. They
// are written before the first change and never overwritten. Removed
// policy statements do not fit in tags: their Sids do (for release to
// name what it cannot put back without previous_state), the statements
// are in the artifact and the previous_state output.
const (
	prevTagConcurrency = "firebreak:prev:concurrency" // "none" or the reserved concurrency
	prevTagPublicURLs  = "firebreak:prev:public-urls" // "none" or the qualifiers whose URL was public ("-": the function itself), space-separated
	prevTagStatements  = "firebreak:prev:removed-statements"
)

// fnState is what contain-function changes, as it was; release-function
// puts it back.
type fnState struct {
	FunctionARN string `json:"function_arn"`
	Region      string `json:"region"`
	// Concurrency is the reserved concurrency before (nil: none).
	Concurrency *int32 `json:"reserved_concurrency"`
	// PublicURLs are the qualifiers ("" for the function itself) whose
	// function URL took no authentication (AuthType NONE).
	PublicURLs []string `json:"public_urls"`
	// Removed are the resource-policy statements taken out, as they were.
	Removed  []map[string]any `json:"removed_statements"`
	FromTags bool             `json:"from_tags"`
}

func (s *fnState) asMap() map[string]any {
	b, _ := json.Marshal(s)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func fnStateFromMap(m map[string]any) (*fnState, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var s fnState
	err = json.Unmarshal(b, &s)
	return &s, err
}

func (s *fnState) prevTags() map[string]string {
	c := "none"
	if s.Concurrency != nil {
		c = strconv.Itoa(int(*s.Concurrency))
	}
	urls := "none"
	if len(s.PublicURLs) > 0 {
		q := make([]string, len(s.PublicURLs))
		for i, u := range s.PublicURLs {
			q[i] = qualifierTag(u)
		}
		urls = strings.Join(q, " ")
	}
	var sids []string
	for _, st := range s.Removed {
		sid, _ := st["Sid"].(string)
		sids = append(sids, sid)
	}
	removed := "none"
	if len(sids) > 0 {
		removed = strings.Join(sids, " ")
		if len(removed) > 256 {
			removed = removed[:250] + " ..."
		}
	}
	return map[string]string{prevTagConcurrency: c, prevTagPublicURLs: urls, prevTagStatements: removed}
}

func qualifierTag(q string) string {
	if q == "" {
		return "-"
	}
	return q
}

// stateFromTags reads the prev tags back; ok is false when there are none.
func stateFromTags(tags map[string]string) (*fnState, bool) {
	c, ok := tags[prevTagConcurrency]
	if !ok {
		return nil, false
	}
	s := &fnState{FromTags: true, PublicURLs: []string{}}
	if n, err := strconv.Atoi(c); err == nil {
		v := int32(n)
		s.Concurrency = &v
	}
	if u := tags[prevTagPublicURLs]; u != "none" && u != "" {
		for _, q := range strings.Fields(u) {
			if q == "-" {
				q = ""
			}
			s.PublicURLs = append(s.PublicURLs, q)
		}
	}
	return s, true
}

// removedSids are the Sids the prev tag names.
func removedSids(tags map[string]string) []string {
	v := tags[prevTagStatements]
	if v == "none" || v == "" {
		return nil
	}
	return strings.Fields(strings.TrimSuffix(v, " ..."))
}
