package ec2

import (
	"strconv"
	"strings"
)

// Tags on the instance that remember its load balancers, so that a rerun
// (which finds it deregistered) and release from tags still know them.
// Names, not ARNs, to fit the 256-character tag value: target group and
// classic ELB names are unique per region and at most 32 characters.
const (
	prevTagTargets = "firebreak:prev:target-groups" // "name:port,name:port"
	prevTagELBs    = "firebreak:prev:classic-elbs"  // "name,name"
)

// targetGroupName takes the name out of a target group ARN
// (arn:...:targetgroup/NAME/ID).
func targetGroupName(arn string) string {
	parts := strings.Split(arn, "/")
	if len(parts) >= 3 {
		return parts[len(parts)-2]
	}
	return arn
}

// addTrafficTags adds the load balancer tags to tags when they fit; when
// they do not, the pre-isolation artifact and output still hold them all.
func (s *preState) addTrafficTags(tags map[string]string) {
	var tgs []string
	for _, tg := range s.TargetGroups {
		name := tg.Name
		if name == "" {
			name = targetGroupName(tg.ARN)
		}
		tgs = append(tgs, name+":"+strconv.Itoa(int(tg.Port)))
	}
	if v := strings.Join(tgs, ","); len(v) <= 256 {
		tags[prevTagTargets] = v
	}
	if v := strings.Join(s.ClassicELBs, ","); len(v) <= 256 {
		tags[prevTagELBs] = v
	}
}

// readTrafficTags reads the load balancer tags an earlier isolate wrote.
func (s *preState) readTrafficTags(tags map[string]string) {
	if v, ok := tags[prevTagTargets]; ok {
		s.TargetGroups = nil
		for _, item := range strings.Split(v, ",") {
			name, port, _ := strings.Cut(item, ":")
			if name == "" {
				continue
			}
			p, _ := strconv.Atoi(port)
			s.TargetGroups = append(s.TargetGroups, targetRef{Name: name, Port: int32(p)})
		}
		s.trafficFromTags = true
	}
	if v, ok := tags[prevTagELBs]; ok {
		s.ClassicELBs = nil
		for _, name := range strings.Split(v, ",") {
			if name != "" {
				s.ClassicELBs = append(s.ClassicELBs, name)
			}
		}
	}
}
