package ec2

import (
	"strconv"
	"strings"
)

// maxTagValue is EC2's limit on a tag value, in characters.
const maxTagValue = 256

// groupTags spreads an ENI's group ids over firebreak:prev:groups and, when
// they do not fit in one tag value (13 or more groups), over
// firebreak:prev:groups:1, :2, ...: a busy ENI must not block isolation.
// They go on in one CreateTags call, so they are there together or not at
// all. The pre-isolation artifact holds the full list as well.
func groupTags(groups []string) map[string]string {
	tags := map[string]string{}
	var chunk []string
	size := 0
	flush := func() {
		key := prevTagGroups
		if n := len(tags); n > 0 {
			key += ":" + strconv.Itoa(n)
		}
		tags[key] = strings.Join(chunk, ",")
		chunk, size = nil, 0
	}
	for _, g := range groups {
		if size > 0 && size+1+len(g) > maxTagValue {
			flush()
		}
		if size > 0 {
			size++
		}
		chunk, size = append(chunk, g), size+len(g)
	}
	flush()
	return tags
}

// groupsFromTags reads back what groupTags wrote; ok is false when the ENI
// carries no prev groups tag.
func groupsFromTags(tags map[string]string) (groups []string, ok bool) {
	first, ok := tags[prevTagGroups]
	if !ok {
		return nil, false
	}
	groups = splitGroups(first)
	for n := 1; ; n++ {
		v, more := tags[prevTagGroups+":"+strconv.Itoa(n)]
		if !more {
			return groups, true
		}
		groups = append(groups, splitGroups(v)...)
	}
}

func splitGroups(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// groupTagKeys are the keys groupTags uses for groups, for release to remove.
func groupTagKeys(groups []string) []string {
	var keys []string
	for k := range groupTags(groups) {
		keys = append(keys, k)
	}
	return keys
}
