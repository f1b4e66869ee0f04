// Package faulttest runs firebreak's playbooks against moto_server behind
// internal/faultproxy: throttling, server errors, dropped connections,
// processes killed mid-step, a failing evidence store, a full disk, and a
// fleet of targets. Every test asserts the end state straight on moto,
// never through the proxy. It holds only tests.
package faulttest
