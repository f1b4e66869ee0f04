package cli

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// parseLevel reads --log-level.
func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
		return 0, fmt.Errorf("level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// secretKeys are attribute names whose values never reach a log, whatever
// an action passes: logs are shipped and shared, secrets must not be.
var secretKeys = []string{"password", "secret", "token", "private_key", "passphrase", "authorization"}

func redact(_ []string, a slog.Attr) slog.Attr {
	k := strings.ToLower(a.Key)
	for _, s := range secretKeys {
		if strings.Contains(k, s) {
			return slog.String(a.Key, "[redacted]")
		}
	}
	return a
}

// logger returns the program's logger on stderr: text, or one JSON object
// a line with --log-format json.
func (st *cliState) logger() *slog.Logger {
	level, _ := parseLevel(st.logLevel) // checked in load
	return st.loggerAt(level)
}

// loggerAt is the program's logger at level. While the live display
// redraws the terminal, records are held back and printed when it stops:
// a line written in between would be drawn over.
func (st *cliState) loggerAt(level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: redact}
	var w io.Writer = st.stderr
	if d, ok := st.currentDisplay().(*liveDisplay); ok {
		w = &d.held
	}
	if st.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
