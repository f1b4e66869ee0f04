package cli

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/firebreak-ir/firebreak/engine/evidence"
)

func verifyCommand(st *cliState) *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "re-hash every artifact of a case, check its custody chain and its signature",
		ArgsUsage: "PATH (a manifest.json, a case dir, a --targets batch dir, or s3://BUCKET/PREFIX/CASE_ID)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "pub", Usage: "check the signature with the public key in `FILE` (PEM)"},
			&cli.BoolFlag{Name: "require-signature", Usage: "fail unless a signature by the --pub key proves who signed"},
		},
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 1, 1, "PATH [--pub FILE] [--require-signature]"); err != nil {
				return err
			}
			o := verifyOptions{require: c.Bool("require-signature")}
			if f := c.String("pub"); f != "" {
				k, err := evidence.LoadEd25519PublicKey(f)
				if err != nil {
					return usageErrorf("--pub %q: %v", f, err)
				}
				o.pub = k
			}
			return st.verify(c.Context, c.Args().First(), o)
		},
	}
}

// verifyOptions are verify's flags.
type verifyOptions struct {
	pub     ed25519.PublicKey
	require bool // --require-signature
}

func (st *cliState) verify(ctx context.Context, path string, o verifyOptions) error {
	loc, err := evidence.ParseLocation(path)
	if err != nil {
		return usageErrorf("verify: %v", err)
	}
	store, folder, batch, err := st.verifyTarget(ctx, path, loc)
	if err != nil {
		return err
	}
	opts := evidence.VerifyOptions{Pub: o.pub, OpenURI: st.stores().OpenURI}
	if batch {
		rep, err := evidence.VerifyBatch(ctx, store, folder, opts)
		if err != nil {
			return verifyError(ctx, path, err)
		}
		return st.printBatch(rep, o)
	}
	rep, err := evidence.VerifyWith(ctx, store, folder, opts)
	if err != nil {
		return verifyError(ctx, path, err)
	}
	if !st.printReport(rep, o, "") {
		return silent{code: exitFailed}
	}
	return nil
}

// verifyError is a verify that could not conclude: interrupted (exit 3)
// or a case that cannot be read at all (exit 1). What the case wrote in
// the error is escaped.
func verifyError(ctx context.Context, path string, err error) error {
	if ctx.Err() != nil {
		return withCode(exitInterrupted, fmt.Errorf("verify of %s interrupted: nothing was concluded", evidence.Printable(path)))
	}
	return withCode(exitFailed, fmt.Errorf("verifying %s: %s", evidence.Printable(path), evidence.Printable(err.Error())))
}

// printReport prints one case's report, indented by pad, and says whether
// it passes (with --require-signature, only when the --pub key signed).
func (st *cliState) printReport(rep *evidence.Report, o verifyOptions, pad string) bool {
	w := st.stdout
	where := ""
	if rep.Folder != "" {
		where = fmt.Sprintf(" (in folder %s: copied or renamed; the manifest's case id is what counts)", rep.Folder)
	}
	fmt.Fprintf(w, "%scase %s%s: %d artifact(s) re-hashed, %d custody line(s), signature: %s\n",
		pad, rep.CaseID, where, len(rep.Checked), rep.CustodyEntries, rep.Signature)
	for _, n := range rep.NotRehashable {
		fmt.Fprintf(w, "%s  not re-hashable: %s\n", pad, n)
	}
	for _, n := range rep.Unrecorded {
		fmt.Fprintf(w, "%s  not recorded by the case (not its evidence): %s\n", pad, n)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "%s  MISMATCH: %s\n", pad, p)
	}
	intact := "every artifact and the custody chain match"
	if rep.Signature != "none" {
		intact = "every artifact, the custody chain and the signature match"
	}
	line, ok := verdict(rep, o, intact)
	fmt.Fprintf(w, "%s%s\n", pad, line)
	return ok
}

// verdict is the last line of a report and whether it passes. Without a
// signature by a key the operator gave, an intact case passes (exit 0)
// only with the warning that nothing proves who wrote it, and fails with
// --require-signature. A valid signature by another key is said as that,
// never as a change to the evidence.
func verdict(rep *evidence.Report, o verifyOptions, intact string) (string, bool) {
	switch {
	case !rep.OK() && rep.Changed():
		return fmt.Sprintf("FAILED: %d problem(s); this evidence has been changed since it was recorded", len(rep.Problems)), false
	case !rep.OK() && rep.OtherSigner != "":
		return fmt.Sprintf("FAILED: signed by another key (fingerprint %s), not the one given; %s as that key signed it", rep.OtherSigner, intact), false
	case !rep.OK():
		return fmt.Sprintf("FAILED: %d problem(s) with the signature: nothing proves who signed; %s", len(rep.Problems), intact), false
	case rep.Trusted:
		return "OK: " + intact + "; signed by the --pub key", true
	}
	warn := "the manifest is not signed (run --sign-key), so nothing proves who wrote it"
	if rep.Signature != "none" {
		warn = "the signature was checked only against the key embedded in the manifest: this proves integrity since signing, not who signed; pass --pub to check the signer"
	}
	if o.require {
		return "FAILED (--require-signature): " + intact + ", but " + warn, false
	}
	return "OK: " + intact + "; WARNING: " + warn, true
}

// printBatch prints a batch: its record, then each case.
func (st *cliState) printBatch(rep *evidence.BatchReport, o verifyOptions) error {
	w := st.stdout
	recordOK := true
	if rep.HasRecord {
		where := ""
		if rep.Folder != "" {
			where = " (in folder " + rep.Folder + ")"
		}
		fmt.Fprintf(w, "batch %s%s: %d case(s) in its record, signature: %s\n", rep.BatchID, where, len(rep.Cases), rep.Record.Signature)
		for _, p := range rep.Record.Problems {
			fmt.Fprintf(w, "  MISMATCH: %s\n", p)
		}
		line, ok := verdict(&rep.Record, o, "the batch record lists every case here")
		fmt.Fprintf(w, "%s\n", line)
		recordOK = ok
	} else {
		fmt.Fprintf(w, "batch: no batch record (written before firebreak kept one): %d case folder(s) found; a case whose folder is gone cannot be told\n", len(rep.Cases))
	}
	failed := 0
	for _, c := range rep.Cases {
		target := ""
		if c.Target != "" {
			target = " (target " + c.Target + ")"
		}
		if c.Report == nil {
			fmt.Fprintf(w, "case %s%s: FAILED: %s\n", c.Folder, target, c.Err)
			failed++
			continue
		}
		if !st.printReport(c.Report, o, "") {
			failed++
		}
	}
	fmt.Fprintf(w, "batch: %d case(s) verified, %d failed\n", len(rep.Cases), failed)
	if failed > 0 || !recordOK {
		return silent{code: exitFailed}
	}
	return nil
}

// verifyTarget opens what PATH names: the store holding the case and the
// case's folder name in it (a manifest's dir, or a case dir, is its
// folder under its parent), or a batch's own location (batch true).
func (st *cliState) verifyTarget(ctx context.Context, path string, loc evidence.Location) (evidence.Store, string, bool, error) {
	if !loc.IsLocal() {
		return st.remoteTarget(ctx, path, loc)
	}
	fi, err := os.Stat(loc.Path)
	if err != nil {
		return nil, "", false, usageErrorf("verify: %v; give a manifest.json, a case dir or a batch dir", err)
	}
	dir := loc.Path
	if !fi.IsDir() {
		dir = filepath.Dir(dir)
	}
	// The path the responder typed may go through links of theirs; what
	// lies inside the case is never followed.
	if dir, err = filepath.EvalSymlinks(dir); err == nil {
		dir, err = filepath.Abs(dir)
	}
	if err != nil {
		return nil, "", false, usageErrorf("verify: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "manifest.json")); err != nil && fi.IsDir() {
		if here, err := evidence.NewDirStore(dir); err == nil && evidence.IsBatch(ctx, here) {
			return here, filepath.Base(dir), true, nil
		}
	}
	store, err := evidence.NewDirStore(filepath.Dir(dir))
	if err != nil {
		return nil, "", false, err
	}
	return store, filepath.Base(dir), false, nil
}

// remoteTarget is verifyTarget for a URI (s3://BUCKET/PREFIX/CASE_ID).
func (st *cliState) remoteTarget(ctx context.Context, path string, loc evidence.Location) (evidence.Store, string, bool, error) {
	if parent, name, ok := loc.Split(); ok && name == "manifest.json" {
		loc = parent
	}
	if here, err := st.openStore(ctx, loc); err == nil {
		if _, err := here.Stat(ctx, evidence.BatchKey); err == nil {
			_, name, _ := loc.Split()
			return here, name, true, nil
		}
	}
	parent, folder, ok := loc.Split()
	if !ok {
		return nil, "", false, usageErrorf("verify %q: want %s/CASE_ID", path, loc)
	}
	store, err := st.openStore(ctx, parent)
	return store, folder, false, err
}
