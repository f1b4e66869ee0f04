package assess

import (
	"encoding/json"
	"fmt"
	"io"
)

// Formats Write knows.
var Formats = []string{"table", "json", "sarif"}

// WriteOptions shape the rendering.
type WriteOptions struct {
	Color   bool   // ANSI colours in the table (a terminal, and no --no-color)
	Version string // the tool version SARIF names; empty: "dev"
	All     bool   // the table lists passes too (else counts them)
}

// Write renders rep in format: "table", "json" or "sarif". An unknown
// format is an error, before anything is written.
func Write(w io.Writer, rep *Report, format string, o WriteOptions) error {
	switch format {
	case "table":
		return writeTable(w, rep, o)
	case "json":
		return writeJSON(w, rep)
	case "sarif":
		return writeJSON(w, toSARIF(rep, o.Version))
	}
	return fmt.Errorf("unknown format %q: want table, json or sarif", format)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // remediation commands keep their '&&' and quotes readable
	return enc.Encode(v)
}
