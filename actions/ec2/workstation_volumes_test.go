package ec2

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestCreateWorkstationRefusesAVolumeAnotherHostHas: on a rerun, an
// evidence volume found attached to another instance is refused (and not
// attached to the workstation too); one found detached is attached again.
func TestCreateWorkstationRefusesAVolumeAnotherHostHas(t *testing.T) {
	w, _ := wsWorld(t, "cr-vols")
	ctx := testenv.Context(t)
	a := newWorkstationAction(w)
	params := withDefaults(a, wsParams(w, t, "cr-vols"))
	in, _ := stepInput("cr-run", params)
	first := mustRun(t, a, in)
	ws, vols := *outString(first, "instance_id"), first["volume_ids"].([]any)
	moved, detached := vols[0].(string), vols[1].(string)
	for _, v := range vols {
		if _, err := w.ec2.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: aws.String(v.(string)), InstanceId: aws.String(ws)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.ec2.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: aws.String(moved), InstanceId: aws.String(w.instance), Device: aws.String("/dev/sdz")}); err != nil {
		t.Fatal(err)
	}

	in, ev := stepInput("cr-run", params)
	_, err := a.Run(ctx, in)
	if err == nil || !strings.Contains(err.Error(), `evidence volume "`+moved+`" is attached to "`+w.instance+`"`) {
		t.Fatalf("rerun with an evidence volume on another host: got %v, want a refusal naming that host", err)
	}
	if got := attachments(t, w, moved); len(got) != 1 || got[0] != w.instance {
		t.Errorf("volume %s: attached to %v, want only the other host %s", moved, got, w.instance)
	}
	for i, e := range eventNames(ev) {
		if e == awsapi.EventChange && details(ev)[i]["call"] == "ec2:AttachVolume" {
			t.Errorf("the refused rerun attached a volume: %v", details(ev)[i])
		}
	}

	if _, err := w.ec2.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: aws.String(moved), InstanceId: aws.String(w.instance)}); err != nil {
		t.Fatal(err)
	}
	in, _ = stepInput("cr-run", params)
	mustRun(t, a, in)
	for _, v := range []string{moved, detached} {
		if got := attachments(t, w, v); len(got) != 1 || got[0] != ws {
			t.Errorf("volume %s after the last rerun: attached to %v, want the workstation %s", v, got, ws)
		}
	}
}

func attachments(t *testing.T, w *snapWorld, volume string) []string {
	t.Helper()
	out, err := w.ec2.DescribeVolumes(testenv.Context(t), &ec2.DescribeVolumesInput{VolumeIds: []string{volume}})
	if err != nil || len(out.Volumes) != 1 {
		t.Fatalf("DescribeVolumes %s: %v", volume, err)
	}
	var ids []string
	for _, a := range out.Volumes[0].Attachments {
		ids = append(ids, aws.ToString(a.InstanceId))
	}
	return ids
}

// TestAttachedAtLooksAtEveryAttachment: a Multi-Attach volume (moto holds
// one attachment a volume, so this is checked on the value) is refused
// when another instance has it, whichever attachment comes first.
func TestAttachedAtLooksAtEveryAttachment(t *testing.T) {
	t.Parallel()
	att := func(instance, device string, state types.VolumeAttachmentState) types.VolumeAttachment {
		return types.VolumeAttachment{InstanceId: aws.String(instance), Device: aws.String(device), State: state}
	}
	ours, theirs := att("i-ws", "/dev/sdf", types.VolumeAttachmentStateAttached), att("i-other", "/dev/sdq", types.VolumeAttachmentStateAttached)
	tests := []struct {
		name    string
		atts    []types.VolumeAttachment
		want    string
		wantErr bool
	}{
		{"none", nil, "", false},
		{"ours", []types.VolumeAttachment{ours}, "/dev/sdf", false},
		{"theirs", []types.VolumeAttachment{theirs}, "", true},
		{"ours then theirs", []types.VolumeAttachment{ours, theirs}, "", true},
		{"theirs then ours", []types.VolumeAttachment{theirs, ours}, "", true},
		{"theirs detached", []types.VolumeAttachment{att("i-other", "/dev/sdq", types.VolumeAttachmentStateDetached), ours}, "/dev/sdf", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := attachedAt(types.Volume{VolumeId: aws.String("vol-1"), Attachments: tt.atts}, "i-ws")
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("got %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
			if tt.wantErr && (err == nil || !strings.Contains(err.Error(), `attached to "i-other"`)) {
				t.Errorf("error %v does not name the other instance", err)
			}
		})
	}
}
