package cli

import (
	"context"
	"crypto/ed25519"
	"errors"
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
		},
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 1, 1, "PATH [--pub FILE]"); err != nil {
				return err
			}
			var pub ed25519.PublicKey
			if f := c.String("pub"); f != "" {
				k, err := evidence.LoadEd25519PublicKey(f)
				if err != nil {
					return usageErrorf("--pub %q: %v", f, err)
				}
				pub = k
			}
			return st.verify(c.Context, c.Args().First(), pub)
		},
	}
}

func (st *cliState) verify(ctx context.Context, path string, pub ed25519.PublicKey) error {
	loc, err := evidence.ParseLocation(path)
	if err != nil {
		return usageErrorf("verify: %v", err)
	}
	if cases := batchCases(loc); len(cases) > 0 {
		return st.verifyBatch(ctx, cases, pub)
	}
	store, caseID, err := st.caseStore(ctx, path, loc)
	if err != nil {
		return err
	}
	rep, err := evidence.VerifyWith(ctx, store, caseID, evidence.VerifyOptions{Pub: pub, OpenURI: st.stores().OpenURI})
	if err != nil {
		return withCode(exitFailed, fmt.Errorf("verifying %s: %w", path, err))
	}
	fmt.Fprintf(st.stdout, "case %s: %d artifact(s) re-hashed, %d custody line(s), signature: %s\n",
		rep.CaseID, len(rep.Checked), rep.CustodyEntries, rep.Signature)
	for _, n := range rep.NotRehashable {
		fmt.Fprintf(st.stdout, "  not re-hashable: %s\n", n)
	}
	// Without --pub an intact case is OK (exit 0), but the output says
	// plainly that nobody's identity was checked: a forger can strip the
	// signature, or re-sign with an embedded key of their own.
	switch {
	case rep.OK() && rep.Signature == "none":
		fmt.Fprintln(st.stdout, "OK: every artifact and the custody chain match; the manifest is not signed (run --sign-key), so this proves nothing about who wrote it")
		return nil
	case rep.OK() && !rep.Trusted:
		fmt.Fprintln(st.stdout, "OK: every artifact, the custody chain and the signature match; signature checked only against the key embedded in the manifest: this proves integrity since signing, not who signed; pass --pub to check the signer")
		return nil
	case rep.OK():
		fmt.Fprintln(st.stdout, "OK: every artifact, the custody chain and the signature match; signed by the --pub key")
		return nil
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(st.stdout, "  MISMATCH: %s\n", p)
	}
	fmt.Fprintf(st.stdout, "FAILED: %d problem(s); this evidence has been changed since it was recorded\n", len(rep.Problems))
	return silent{code: exitFailed}
}

// caseStore splits loc (PATH) into the store holding the case and the
// case id: a manifest's dir, or a case dir, is CASE_ID under its parent.
func (st *cliState) caseStore(ctx context.Context, path string, loc evidence.Location) (evidence.Store, string, error) {
	if !loc.IsLocal() {
		if parent, name, ok := loc.Split(); ok && name == "manifest.json" {
			loc = parent
		}
		parent, caseID, ok := loc.Split()
		if !ok {
			return nil, "", usageErrorf("verify %q: want %s/CASE_ID", path, loc)
		}
		store, err := st.openStore(ctx, parent)
		return store, caseID, err
	}
	fi, err := os.Stat(loc.Path)
	if err != nil {
		return nil, "", usageErrorf("verify: %v; give a manifest.json or a case dir", err)
	}
	caseDir := loc.Path
	if !fi.IsDir() {
		caseDir = filepath.Dir(caseDir)
	}
	caseDir, err = filepath.Abs(caseDir)
	if err != nil {
		return nil, "", err
	}
	store, err := evidence.NewDirStore(filepath.Dir(caseDir))
	if err != nil {
		return nil, "", err
	}
	return store, filepath.Base(caseDir), nil
}

// batchCases lists the case dirs of a --targets batch dir: a local dir with
// no manifest of its own whose sub-dirs hold one. Anything else is nil.
func batchCases(loc evidence.Location) []string {
	if !loc.IsLocal() {
		return nil
	}
	if _, err := os.Stat(filepath.Join(loc.Path, "manifest.json")); err == nil {
		return nil
	}
	found, _ := filepath.Glob(filepath.Join(loc.Path, "*", "manifest.json"))
	cases := make([]string, len(found))
	for i, m := range found {
		cases[i] = filepath.Dir(m)
	}
	return cases
}

// verifyBatch verifies every case of a batch; it fails when any does.
func (st *cliState) verifyBatch(ctx context.Context, cases []string, pub ed25519.PublicKey) error {
	failed := 0
	for _, c := range cases {
		if err := st.verify(ctx, c, pub); err != nil {
			failed++
			if _, quiet := errors.AsType[silent](err); !quiet {
				printError(st.stderr, err)
			}
		}
	}
	fmt.Fprintf(st.stdout, "batch: %d case(s) verified, %d failed\n", len(cases), failed)
	if failed > 0 {
		return silent{code: exitFailed}
	}
	return nil
}
