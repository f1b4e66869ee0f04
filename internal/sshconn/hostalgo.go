package sshconn

import (
	"crypto/ed25519"
	"errors"
	"net"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// A host has several host keys (ed25519, ECDSA, RSA) and the client picks
// which one it is shown by the host key algorithms it offers; Go prefers
// ECDSA. A pinned ed25519 fingerprint, or a known_hosts line of one type,
// must not read as a changed key just because another type was negotiated.

// Host key algorithm families, tried in this order for a pinned key.
var (
	algosED25519 = []string{ssh.KeyAlgoED25519}
	algosECDSA   = []string{ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521}
	algosRSA     = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
)

// algorithmSets returns the HostKeyAlgorithms to offer, one handshake per
// set until one is accepted. nil means the library's default.
func (p HostKeyPolicy) algorithmSets(e Endpoint) [][]string {
	switch {
	case p.Insecure, p.ConsoleOutput != "":
		// Console output lists every key type the host has.
		return [][]string{nil}
	case p.Pinned != "":
		// A fingerprint does not say its key type: try each family.
		return [][]string{algosED25519, algosECDSA, algosRSA}
	default:
		if algos := knownAlgorithms(p, e); len(algos) > 0 {
			return [][]string{algos}
		}
		return [][]string{nil}
	}
}

// knownAlgorithms asks known_hosts which key types it holds for the host,
// as OpenSSH does, by checking a throw-away key and reading the keys the
// mismatch error lists.
func knownAlgorithms(p HostKeyPolicy, e Endpoint) []string {
	path, err := p.knownHostsPath()
	if err != nil {
		return nil
	}
	cb, err := knownhosts.New(path)
	if err != nil {
		return nil
	}
	_, priv, _ := ed25519.GenerateKey(nil)
	probe, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		return nil
	}
	addr := &net.TCPAddr{IP: net.ParseIP(e.Host), Port: e.Port}
	var ke *knownhosts.KeyError
	if err := cb(net.JoinHostPort(e.Host, strconv.Itoa(e.Port)), addr, probe); !errors.As(err, &ke) {
		return nil
	}
	var algos []string
	for _, k := range ke.Want {
		switch t := k.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			algos = append(algos, algosRSA...)
		default:
			algos = append(algos, t)
		}
	}
	return algos
}

// hostKeyMismatch marks a refusal that another key type might not get.
type hostKeyMismatch struct{ error }

func (h hostKeyMismatch) Unwrap() error { return h.error }

// retryOtherAlgorithm reports whether a handshake failure may go away with
// another set of host key algorithms: a pinned key of another type, or a
// server without keys of the offered type.
func retryOtherAlgorithm(err error) bool {
	var m hostKeyMismatch
	return errors.As(err, &m) || strings.Contains(err.Error(), "no common algorithm for host key")
}
