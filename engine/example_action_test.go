package engine_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/enginetest"
	"github.com/firebreak-ir/firebreak/engine/loader"
)

// banner is a complete action: it declares its parameters once, says what
// it outputs, and stores what it made as evidence. It touches nothing
// outside the evidence store, so it is not Mutating and --dry-run may run
// it.
type banner struct{}

// bannerParams are banner's parameters: the spec and the decoding both
// read this one declaration.
type bannerParams struct {
	Text  string `param:"text,required" doc:"what to print"`
	Width int    `param:"width" default:"20" doc:"the banner's width"`
	Style string `param:"style" default:"plain" enum:"plain,box" doc:"how to frame the text"`
}

var _ engine.Action = banner{}

func (banner) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name:    "banner",
		Summary: "frame a text and keep it as evidence",
		Params:  engine.ParamsOf[bannerParams](),
		Outputs: []engine.Output{{Name: "sha256", Type: engine.TypeString, Doc: "SHA-256 of the banner"}},
	}
}

// Run decodes its parameters (defaults applied), does its work and stores
// the result. Calling it again stores another artifact; an action that
// changes something outside finds what an earlier attempt made instead.
func (banner) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := engine.Decode[bannerParams](in.Params)
	if err != nil {
		return nil, err
	}
	text := fmt.Sprintf("%-*s", p.Width, p.Text)
	if p.Style == "box" {
		line := "+" + strings.Repeat("-", p.Width) + "+"
		text = line + "\n|" + text + "|\n" + line
	}
	a, err := in.Evidence.Put(ctx, engine.ArtifactMeta{Name: "banner.txt", Kind: "text", ContentType: "text/plain"}, strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("storing the banner: %w", err)
	}
	return engine.Outputs{"sha256": a.SHA256}, nil
}

// An action registers in a Registry and is called with its step's
// parameters and evidence (the runner does this for each step; here
// enginetest.Evidence stands in for the case).
func ExampleAction() {
	reg := engine.NewRegistry()
	reg.Register(banner{})

	a, _ := reg.Lookup("banner")
	ev := enginetest.NewEvidence()
	out, err := a.Run(context.Background(), &engine.StepInput{
		StepID: "hello", Attempt: 1, Evidence: ev,
		Params: engine.Params{"text": "contained", "width": 12, "style": "box"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	stored, _ := ev.Object("banner.txt")
	fmt.Println(string(stored))
	fmt.Println(out["sha256"] == enginetest.SHA256(stored))

	_, err = a.Run(context.Background(), &engine.StepInput{StepID: "bad", Evidence: ev, Params: engine.Params{"style": "fancy"}})
	fmt.Println(err)
	// Output:
	// +------------+
	// |contained   |
	// +------------+
	// true
	// parameter "text" is required but has no value
	// parameter "style": string "fancy" is not one of "plain", "box"
}

// The loader checks a playbook's steps against the registered specs before
// anything runs: every problem at once, at its place in the file.
func ExampleAction_validation() {
	reg := engine.NewRegistry()
	reg.Register(banner{})
	_, err := (&loader.Loader{Registry: reg}).LoadBytes("greet.yaml", []byte(`name: greet
version: 1.0.0
steps:
  - id: hello
    action: banner
    with:
      txt: contained
      style: fancy
`))
	fmt.Println(err)
	// Output:
	// greet.yaml:5:13: action "banner" needs parameter "text": add it under with
	// greet.yaml:7:7: action "banner" takes no parameter "txt" (did you mean "text"?)
	// greet.yaml:8:14: parameter "style" of action "banner" must be one of "plain", "box", got "fancy"
}

// ParamsOf is what the spec, and so `firebreak actions banner`, shows.
func ExampleParamsOf() {
	for _, p := range engine.ParamsOf[bannerParams]() {
		fmt.Printf("%s %s required=%v default=%v enum=%v\n", p.Name, p.Type, p.Required, p.Default, p.Enum)
	}
	// Output:
	// text string required=true default=<nil> enum=[]
	// width int required=false default=20 enum=[]
	// style string required=false default=plain enum=[plain box]
}
