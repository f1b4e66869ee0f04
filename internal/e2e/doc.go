// Package e2e runs the built-in playbooks end to end: loader, runner,
// evidence and the real actions, against moto_server. It holds only tests.
package e2e
