package engine_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

// Conn is a set of parameters several actions share.
type Conn struct {
	Host string `param:"host,required" doc:"where to connect"`
	Port int    `param:"port" default:"22"`
}

type withConn struct {
	Name string `param:"name" default:"x"`
	Conn
	tail
}

// tail is unexported: its exported fields are still filled.
type tail struct {
	Last bool `param:"last"`
}

func TestEmbeddedStructIsInlined(t *testing.T) {
	t.Parallel()
	var names []string
	for _, p := range engine.ParamsOf[withConn]() {
		names = append(names, p.Name)
	}
	if want := []string{"name", "host", "port", "last"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("params: got %v, want %v (the embedded struct's, in its place)", names, want)
	}
	got, err := engine.Decode[withConn](engine.Params{"host": "10.0.0.1", "last": true})
	if err != nil {
		t.Fatal(err)
	}
	if want := (withConn{Name: "x", Conn: Conn{Host: "10.0.0.1", Port: 22}, tail: tail{Last: true}}); got != want {
		t.Errorf("decoded: got %+v, want %+v", got, want)
	}
	if _, err := engine.Decode[withConn](engine.Params{}); err == nil || !strings.Contains(err.Error(), `parameter "host" is required`) {
		t.Errorf("missing embedded required parameter: error = %v", err)
	}
}

type clash struct {
	Host string `param:"host"`
	Conn
}

func TestEmbeddedNameClashPanics(t *testing.T) {
	t.Parallel()
	msg := panicOf(func() { engine.ParamsOf[clash]() })
	if !strings.Contains(msg, `parameter "host" is declared twice`) || !strings.Contains(msg, "field Conn") {
		t.Errorf("panic = %q, want one naming the clash and the embedded field", msg)
	}
}
