package loader

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/firebreak-ir/firebreak/engine"
)

var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// maxSearchLines bounds the search for a syntax error's line: it parses
// growing prefixes, which is quadratic.
const maxSearchLines = 400

// syntax reports a YAML syntax error. yaml.v3 names the line of the
// enclosing construct (and counts it from 0 or 1 depending on the error),
// not the line at fault, so the line is found again: the first prefix of
// the file, cut at a line end, that fails with the same problem.
func (d *decoder) syntax(data []byte, err error) {
	p := engine.Pos{File: d.file, Line: 1, Col: 1}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := syntaxLine.FindStringSubmatch(err.Error()); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if line := d.faultLine(data, msg); line > 0 {
		p.Line = line
	}
	if p.Line >= 1 && p.Line <= len(d.lines) {
		text := d.lines[p.Line-1]
		p.Col = 1 + len([]rune(text)) - len([]rune(strings.TrimLeft(text, " \t")))
	}
	d.errAt(p, "yaml syntax: %s", msg)
}

func (d *decoder) faultLine(data []byte, msg string) int {
	if len(d.lines) > maxSearchLines {
		return 0
	}
	end := 0
	for i := range d.lines {
		next := bytes.IndexByte(data[end:], '\n')
		if next < 0 {
			end = len(data)
		} else {
			end += next + 1
		}
		if e := tryParse(data[:end]); e != "" && strings.HasSuffix(e, msg) {
			return i + 1
		}
	}
	return 0
}

// tryParse returns the error text of parsing every document of data.
func tryParse(data []byte) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = ""
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if err.Error() == "EOF" {
				return ""
			}
			return err.Error()
		}
	}
}
