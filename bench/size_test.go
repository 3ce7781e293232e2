package main

import (
	"slices"
	"testing"
)

func TestReflectMethodCallers(t *testing.T) {
	graph := []byte(`# github.com/purserhq/purser/cmd/purser
main.run -> text/template.(*Template).Execute
text/template.(*state).evalFieldChain -> text/template.(*state).evalField <ReflectMethod>
text/template.(*state).evalField <ReflectMethod> -> reflect.Value.MethodByName
type:reflect.Value <UsedInIface> -> reflect.(*Value).MethodByName <ReflectMethod>
github.com/expr-lang/expr/builtin.init.func42 -> github.com/expr-lang/expr/vm/runtime.Fetch <ReflectMethod>
`)
	want := []string{"text/template.(*state).evalField", "github.com/expr-lang/expr/vm/runtime.Fetch"}
	if got := reflectMethodCallers(graph); !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := reflectMethodCallers([]byte("main.main -> fmt.Println\n")); len(got) != 0 {
		t.Fatalf("got %q from a graph without callers", got)
	}
}
