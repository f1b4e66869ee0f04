package evidence

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// AlgEd25519 is the only signature algorithm Verify checks today.
const AlgEd25519 = "ed25519"

// Signature is a manifest's signature. Value signs the manifest's
// canonical JSON with the signature field left out.
type Signature struct {
	Algorithm string `json:"algorithm"`
	// PublicKey is the raw public key, base64; Verify uses it when no key
	// is given, and says so.
	PublicKey string `json:"public_key,omitempty"`
	// KeyID names the key: "SHA256:<base64>" of the public key, or a KMS
	// key ARN.
	KeyID string `json:"key_id"`
	Value string `json:"value"`
}

// Signer signs manifests. An ed25519 key file is the first kind; a KMS key
// will be another (it implements ContextSigner too, since it makes a call).
type Signer interface {
	Sign(msg []byte) (Signature, error)
}

// ContextSigner is implemented by signers that make network calls; Finish
// prefers it so the call honours the caller's ctx.
type ContextSigner interface {
	SignContext(ctx context.Context, msg []byte) (Signature, error)
}

// Ed25519Signer signs with a private key held in memory.
type Ed25519Signer struct{ key ed25519.PrivateKey }

// NewEd25519Signer returns a signer over key.
func NewEd25519Signer(key ed25519.PrivateKey) *Ed25519Signer { return &Ed25519Signer{key: key} }

// Sign implements Signer.
func (s *Ed25519Signer) Sign(msg []byte) (Signature, error) {
	pub := s.key.Public().(ed25519.PublicKey)
	return Signature{
		Algorithm: AlgEd25519,
		PublicKey: base64.StdEncoding.EncodeToString(pub),
		KeyID:     Fingerprint(pub),
		Value:     base64.StdEncoding.EncodeToString(ed25519.Sign(s.key, msg)),
	}, nil
}

// KeyID implements KeyIdentifier: the key's fingerprint, as Sign puts it
// in the signature.
func (s *Ed25519Signer) KeyID() string { return Fingerprint(s.Public()) }

// Public returns the signer's public key.
func (s *Ed25519Signer) Public() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Fingerprint names a public key as "SHA256:" and the unpadded base64 of
// its SHA-256, the way ssh-keygen -l does.
func Fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// LoadEd25519Signer reads a PKCS#8 PEM ed25519 private key, as
// `openssl genpkey -algorithm ed25519` and GenerateEd25519Key write it.
func LoadEd25519Signer(path string) (*Ed25519Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading signing key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("signing key %q is not a PKCS#8 PEM private key: create one with `openssl genpkey -algorithm ed25519 -out %s`", path, path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key %q: %w", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %q is a %T, not ed25519: create one with `openssl genpkey -algorithm ed25519`", path, k)
	}
	return NewEd25519Signer(ek), nil
}

// GenerateEd25519Key writes a new ed25519 private key to path (PKCS#8 PEM,
// mode 0600) and returns its public key. It refuses to overwrite a file.
func GenerateEd25519Key(path string) (ed25519.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating ed25519 key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encoding ed25519 key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("key file %q exists: choose another path; an existing key is never overwritten", path)
		}
		return nil, fmt.Errorf("writing key: %w", err)
	}
	err = pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("writing key %q: %w", path, err)
	}
	return pub, nil
}

// LoadEd25519PublicKey reads a public key for Verify: a PKIX PEM
// ("PUBLIC KEY", what `openssl pkey -pubout` writes) or a private key
// file, whose public half is used.
func LoadEd25519PublicKey(path string) (ed25519.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading public key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block != nil && block.Type == "PRIVATE KEY" {
		s, err := LoadEd25519Signer(path)
		if err != nil {
			return nil, err
		}
		return s.Public(), nil
	}
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("public key %q is not a PEM \"PUBLIC KEY\": export one with `openssl pkey -in KEY -pubout`", path)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("public key %q: %w", path, err)
	}
	ek, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key %q is a %T, not ed25519", path, k)
	}
	return ek, nil
}
