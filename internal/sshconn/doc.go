// Package sshconn is the SSH side of every action that works on a host
// over SSH (capture-memory, analyze-disk): one way to declare the
// connection (Params, embedded in an action's parameters), one set of
// host-key rules (a pinned fingerprint, the EC2 console output's
// fingerprints, known_hosts, or insecure and recorded), jump hosts, dials
// that honour the context, and remote commands (Remote: run, stream,
// upload a file and check its hash at use).
//
// It imports x/crypto/ssh, so the engine never imports it.
package sshconn
