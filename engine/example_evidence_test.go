package engine_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
)

// An action is handed its step's Evidence (StepInput.Evidence) and uses it
// three ways: Put stores what it collected, hashed as it is written;
// Record notes evidence kept elsewhere (a snapshot has no bytes in the
// store); Event writes a custody line for a change it made. Here the
// Evidence is a real case's, in a directory, so the custody log and the
// verification show where each call went.
func ExampleEvidence() {
	dir, err := os.MkdirTemp("", "evidence-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := evidence.NewDirStore(dir)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	c, err := evidence.OpenCase(ctx, store, evidence.Header{CaseID: "cr-1", RunID: "run-1",
		Playbook: engine.PlaybookRef{Name: "example"}}, nil)
	if err != nil {
		log.Fatal(err)
	}

	// What an action's Run does with in.Evidence:
	var ev engine.Evidence = c.Evidence("snapshot")
	a, err := ev.Put(ctx, engine.ArtifactMeta{Name: "volumes.json", Kind: "volume-list", ContentType: "application/json",
		Source: map[string]string{"instance_id": "i-0abc"}}, strings.NewReader(`["vol-1"]`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("stored:", a.ID, a.Size, "bytes, complete", a.Complete)
	if err := ev.Record(ctx, engine.Artifact{Kind: "ebs-snapshot", Complete: true,
		Source: map[string]string{"volume_id": "vol-1", "snapshot_id": "snap-1"}}); err != nil {
		log.Fatal(err)
	}
	if err := ev.Event(ctx, "aws-change", map[string]any{"call": "ec2:CreateSnapshots", "instance_id": "i-0abc"}); err != nil {
		log.Fatal(err)
	}

	if _, err := c.Finish(ctx, engine.RunSucceeded, time.Now()); err != nil {
		log.Fatal(err)
	}
	f, err := os.Open(dir + "/cr-1/custody.jsonl")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var e evidence.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			log.Fatal(err)
		}
		line := fmt.Sprintf("custody: %d %s", e.Seq, e.Event)
		if e.Step != "" {
			line += ", step " + e.Step
		}
		if e.Artifact != nil {
			line += ", artifact " + e.Artifact.ID
		}
		fmt.Println(line)
	}
	r, err := evidence.Verify(ctx, store, "cr-1", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("verify:", r.OK(), "rehashed", r.Checked, "not rehashable", len(r.NotRehashable))
	// Output:
	// stored: artifacts/snapshot/volumes.json 9 bytes, complete true
	// custody: 1 case.opened
	// custody: 2 artifact.stored, step snapshot, artifact artifacts/snapshot/volumes.json
	// custody: 3 artifact.recorded, step snapshot, artifact recorded/snapshot/ebs-snapshot
	// custody: 4 aws-change, step snapshot
	// custody: 5 case.finished
	// verify: true rehashed [artifacts/snapshot/volumes.json] not rehashable 1
}
