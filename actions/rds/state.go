package rds

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// Tags holding the instance's pre-containment state on the instance:
// written before the first change and never overwritten, so a rerun, a
// resume or release-db from the instance id alone knows the state before.
const (
	prevTagPublic = "firebreak:prev:publicly-accessible" // "true" or "false"
	prevTagGroups = "firebreak:prev:security-groups"     // the group ids, space-separated
)

// dbState is what contain-db changes, as it was; release-db puts it back.
type dbState struct {
	DBInstanceID       string   `json:"db_instance_id"`
	ARN                string   `json:"db_instance_arn"`
	Region             string   `json:"region"`
	PubliclyAccessible bool     `json:"publicly_accessible"`
	SecurityGroups     []string `json:"security_groups"`
	FromTags           bool     `json:"from_tags"`
}

func (s *dbState) asMap() map[string]any {
	b, _ := json.Marshal(s)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func dbStateFromMap(m map[string]any) (*dbState, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var s dbState
	err = json.Unmarshal(b, &s)
	return &s, err
}

func (s *dbState) prevTags() map[string]string {
	return map[string]string{prevTagPublic: strconv.FormatBool(s.PubliclyAccessible), prevTagGroups: strings.Join(s.SecurityGroups, " ")}
}

// stateFromTags reads the prev tags back; ok is false without them.
func stateFromTags(tags map[string]string) (*dbState, bool) {
	pub, ok1 := tags[prevTagPublic]
	groups, ok2 := tags[prevTagGroups]
	if !ok1 || !ok2 {
		return nil, false
	}
	return &dbState{PubliclyAccessible: pub == "true", SecurityGroups: strings.Fields(groups), FromTags: true}, true
}

func tagMap(ts []types.Tag) map[string]string {
	m := make(map[string]string, len(ts))
	for _, t := range ts {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func rdsTags(m map[string]string) []types.Tag {
	out := make([]types.Tag, 0, len(m))
	for k, v := range m {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out
}

// groupIDs are an instance's VPC security group ids, in order.
func groupIDs(db types.DBInstance) []string {
	var out []string
	for _, g := range db.VpcSecurityGroups {
		out = append(out, aws.ToString(g.VpcSecurityGroupId))
	}
	return out
}
