package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"
)

var snakeKey = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// nonSnake lists the keys of doc, at any depth, that are not snake_case,
// each with its path. Keys of maps that hold data rather than fields (a
// playbook's inputs, a step's params or outputs, tags) are names users or
// AWS chose; paths ending in one of dataMaps are not checked below it.
func nonSnake(doc any, path string, dataMaps map[string]bool, bad map[string]bool) {
	switch v := doc.(type) {
	case map[string]any:
		for k, child := range v {
			if !snakeKey.MatchString(k) {
				bad[path+"."+k] = true
			}
			if !dataMaps[k] {
				nonSnake(child, path+"."+k, dataMaps, bad)
			}
		}
	case []any:
		for _, child := range v {
			nonSnake(child, path+"[]", dataMaps, bad)
		}
	}
}

// TestJSONOutputsAreSnakeCase: every command's --format json (and the
// JSON log lines) uses snake_case keys, so a responder's jq reads them
// one way. Keys that are data (inputs, params, outputs, tags, step ids
// in a map) are the user's and are not checked.
func TestJSONOutputsAreSnakeCase(t *testing.T) {
	s := newSandbox(t)
	finding, _ := filepath.Abs(filepath.Join("testdata", "findings", "guardduty-backdoor-c2.json"))
	s.run("run", "local-check").want(t, 0)
	data := map[string]bool{"inputs": true, "params": true, "outputs": true, "tags": true, "with": true, "env": true, "steps": false}
	cmds := [][]string{
		{"list", "--format", "json"},
		{"list", "--coverage", "--format", "json"},
		{"list", "--finding", finding, "--format", "json"},
		{"actions", "--format", "json"},
		{"plan", "local-check", "--format", "json"},
		{"plan", "from-finding", "--finding", finding, "--format", "json"},
		{"runs", "--format", "json"},
	}
	for _, args := range cmds {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := s.run(args...).want(t, 0)
			var doc any
			if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, r.stdout)
			}
			bad := map[string]bool{}
			nonSnake(doc, "", data, bad)
			if len(bad) > 0 {
				t.Errorf("keys not snake_case: %s", keys(bad))
			}
		})
	}
	t.Run("log-format json", func(t *testing.T) {
		r := s.run("--log-format", "json", "run", "local-check").want(t, 0)
		bad := map[string]bool{}
		lines := 0
		for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
			var doc any
			if err := json.Unmarshal([]byte(line), &doc); err != nil {
				continue // the run's summary is for people
			}
			lines++
			nonSnake(doc, "", data, bad)
		}
		if lines == 0 {
			t.Fatalf("no JSON log line:\n%s", r.stderr)
		}
		if len(bad) > 0 {
			t.Errorf("log keys not snake_case: %s", keys(bad))
		}
	})
}

func keys(m map[string]bool) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return fmt.Sprint(out)
}

// TestListFits100Columns: list's table keeps to 100 columns however long
// the descriptions and paths, cutting with an ellipsis; --format json has
// every description whole.
func TestListFits100Columns(t *testing.T) {
	s := newSandbox(t)
	r := s.run("list").want(t, 0)
	var host string
	for _, line := range strings.Split(strings.TrimRight(r.stdout, "\n"), "\n") {
		if n := utf8.RuneCountInString(line); n > 100 {
			t.Errorf("%d columns: %q", n, line)
		}
		if strings.HasPrefix(line, "host-compromise ") {
			host = line
		}
	}
	if f := strings.Fields(host); !strings.HasSuffix(host, "…") || len(f) < 5 || f[3] != "builtin" || f[4] != "Contain" {
		t.Errorf("host-compromise's row: want its description cut, its source builtin: %q", host)
	}
	var entries []struct{ Name, Description string }
	if err := json.Unmarshal([]byte(s.run("list", "--format", "json").want(t, 0).stdout), &entries); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name == "host-compromise" && (len(e.Description) < 150 || strings.Contains(e.Description, "…")) {
			t.Errorf("json: want the whole description, got %q", e.Description)
		}
	}
}

func TestFitTable(t *testing.T) {
	rows := [][]string{{"A", "SRC", "DESC"}, {"x", "/very/long/path/to/the/playbooks/", "a description that goes on and on"}}
	got := fitTable(rows, 40, []shrink{{col: 2, least: 12}, {col: 1, least: 10, left: true}})
	want := []string{"A  SRC                      DESC", "x  …path/to/the/playbooks/  a descripti…"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := fitTable(rows[:1], 40, nil); got[0] != "A  SRC  DESC" {
		t.Errorf("narrow rows are left alone: %q", got[0])
	}
}
