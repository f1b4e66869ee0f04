package evidence

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
)

// verifySignature checks the manifest's signature: with pub when given
// (the operator's trust), else with the key embedded in the manifest
// (integrity since signing, not who signed). A valid signature by another
// key than pub is told as that, not as a change to the evidence.
func verifySignature(rep *Report, m *Manifest, raw []byte, pub ed25519.PublicKey) {
	checkSignature(rep, "manifest", m.Signature, raw, pub)
}

// checkSignature checks sig over raw (a manifest's or a batch record's
// bytes, read as canonicalize reads them).
func checkSignature(rep *Report, what string, sig *Signature, raw []byte, pub ed25519.PublicKey) {
	if sig == nil {
		rep.Signature = "none"
		if pub != nil {
			rep.signerProblem("%s is not signed, but a public key was given", what)
		}
		return
	}
	if sig.Algorithm != AlgEd25519 {
		rep.Signature = Printable(sig.Algorithm + " " + sig.KeyID)
		rep.signerProblem("signature algorithm %q cannot be checked by this verifier", sig.Algorithm)
		return
	}
	embedded, embeddedErr := base64.StdEncoding.DecodeString(sig.PublicKey)
	if embeddedErr == nil && len(embedded) != ed25519.PublicKeySize {
		embedded, embeddedErr = nil, errBadKey
	}
	value, valueErr := base64.StdEncoding.DecodeString(sig.Value)
	msg, msgErr := canonicalize(raw)
	valid := func(key ed25519.PublicKey) bool {
		return valueErr == nil && msgErr == nil && ed25519.Verify(key, msg, value)
	}
	if pub == nil {
		if embeddedErr != nil {
			rep.Signature = Printable("ed25519 " + sig.KeyID + " (embedded key unreadable)")
			rep.problem("signature: embedded public key is not a base64 ed25519 key")
			return
		}
		rep.Signature = "ed25519 " + Fingerprint(embedded) + " (key embedded in the manifest: proves integrity, not who signed; pass the signer's public key to prove that)"
		if !valid(embedded) {
			rep.problem("signature does not match the %s: it was changed after signing", what)
		}
		return
	}
	rep.Signature = "ed25519 " + Fingerprint(pub) + " (given key)"
	if valid(pub) {
		rep.Trusted = true
		return
	}
	// Not the given key's signature. Whose is it? If the embedded key
	// checks, the manifest is intact and another key signed it.
	if embeddedErr == nil && valid(embedded) && Fingerprint(embedded) != Fingerprint(pub) {
		rep.OtherSigner = Fingerprint(embedded)
		rep.Signature = "ed25519 " + rep.OtherSigner + " (embedded key; not the given key " + Fingerprint(pub) + ")"
		rep.signerProblem("signed by another key (fingerprint %s), not the one given (fingerprint %s)", rep.OtherSigner, Fingerprint(pub))
		return
	}
	rep.problem("signature does not match the %s: it was changed after signing", what)
}

var errBadKey = errors.New("not an ed25519 public key")
