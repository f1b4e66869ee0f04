package session_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/firebreak-ir/firebreak/"

// assemblyAllowed are the packages (directories from the module root)
// that may open a case and run a playbook themselves: this one, and the
// runner's and the evidence package's own tests.
var assemblyAllowed = []string{"engine/session", "engine/runner", "engine/evidence"}

// openCaseAllowed are the files or directories outside the session that
// may open a case without a run, and why.
var openCaseAllowed = map[string]string{
	"internal/bench/memory.go":  "the capture benchmark streams memory into a case: no playbook runs",
	"engine/evidence/storetest": "the Store conformance suite opens cases on the store under test: no playbook runs",
	"internal/temporalrun/activities.go": "a Temporal worker reopens the case the session opened to record one step or seal it; " +
		"the run's life is the session's Temporal backend and its workflow, which drives runner.Machine, not runner.Run",
}

// TestOneHomeForRuns fails when code outside engine/session assembles a run
// (opens a case and calls runner.Run or runner.Resume): a second copy of
// that lifecycle would drift from the session's (sealing after a cancel,
// never calling an unsealed case a success). Outside tests nothing else
// calls runner.Run/Resume or evidence.OpenCase at all; a test file may
// call one of them (a unit test of a package) but not both.
func TestOneHomeForRuns(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		calls, err := runCalls(p)
		if err != nil {
			return err
		}
		checked++
		for _, problem := range judge(rel, calls) {
			t.Error(problem)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("checked %d Go files under %s, want the whole module", checked, root)
	}
}

// judge says what is wrong with the calls of one file.
func judge(rel string, calls map[string][]token.Position) []string {
	dir := path.Dir(rel)
	if slices.Contains(assemblyAllowed, dir) {
		return nil
	}
	runs := append(calls["runner.Run"], calls["runner.Resume"]...)
	opens := calls["evidence.OpenCase"]
	var out []string
	if strings.HasSuffix(rel, "_test.go") {
		if len(runs) > 0 && len(opens) > 0 {
			out = append(out, rel+": opens a case and runs a playbook itself; start the run with engine/session")
		}
		return out
	}
	for _, p := range runs {
		out = append(out, rel+":"+strconv.Itoa(p.Line)+": calls the runner directly; runs go through engine/session")
	}
	_, fileOK := openCaseAllowed[rel]
	if _, dirOK := openCaseAllowed[dir]; !fileOK && !dirOK {
		for _, p := range opens {
			out = append(out, rel+":"+strconv.Itoa(p.Line)+": opens a case directly; runs go through engine/session")
		}
	}
	return out
}

// runCalls finds the calls of runner.Run, runner.Resume and
// evidence.OpenCase in a file, whatever name it imports them under.
func runCalls(file string) (map[string][]token.Position, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	names := map[string]string{} // local name -> "runner" or "evidence"
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		var pkg string
		switch p {
		case module + "engine/runner":
			pkg = "runner"
		case module + "engine/evidence":
			pkg = "evidence"
		default:
			continue
		}
		local := pkg
		if imp.Name != nil {
			local = imp.Name.Name
		}
		names[local] = pkg
	}
	out := map[string][]token.Position{}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); ok && names[x.Name] != "" {
			key := names[x.Name] + "." + sel.Sel.Name
			out[key] = append(out[key], fset.Position(call.Pos()))
		}
		return true
	})
	return out, nil
}

// TestJudge: the guard catches what it is for.
func TestJudge(t *testing.T) {
	at := []token.Position{{Line: 7}}
	tests := []struct {
		name  string
		rel   string
		calls map[string][]token.Position
		bad   bool
	}{
		{"a command that runs the runner", "internal/cli/job.go", map[string][]token.Position{"runner.Run": at}, true},
		{"a command that opens a case", "internal/cli/job.go", map[string][]token.Position{"evidence.OpenCase": at}, true},
		{"a harness that assembles a run", "internal/e2e/x_test.go", map[string][]token.Position{"evidence.OpenCase": at, "runner.Resume": at}, true},
		{"a unit test of a store", "store/s3store/case_test.go", map[string][]token.Position{"evidence.OpenCase": at}, false},
		{"the runner's own test", "engine/runner/evidence_test.go", map[string][]token.Position{"evidence.OpenCase": at, "runner.Run": at}, false},
		{"the session", "engine/session/launch.go", map[string][]token.Position{"evidence.OpenCase": at}, false},
		{"the allowed benchmark", "internal/bench/memory.go", map[string][]token.Position{"evidence.OpenCase": at}, false},
		{"the store conformance suite", "engine/evidence/storetest/abilities.go", map[string][]token.Position{"evidence.OpenCase": at}, false},
		{"another file of the bench", "internal/bench/world.go", map[string][]token.Position{"evidence.OpenCase": at}, true},
		{"the conformance suite running a playbook", "engine/evidence/storetest/x.go", map[string][]token.Position{"runner.Run": at}, true},
	}
	for _, tt := range tests {
		if got := len(judge(tt.rel, tt.calls)) > 0; got != tt.bad {
			t.Errorf("%s: judged bad %v, want %v", tt.name, got, tt.bad)
		}
	}
}
