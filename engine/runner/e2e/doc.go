// Package e2e holds tests that run playbooks from YAML, through the loader,
// with the runner. It is a package of its own so that the runner's own
// tests do not depend on the loader building.
package e2e
