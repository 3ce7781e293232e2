package client

import "testing"

func TestErrorSaysEachFieldOnce(t *testing.T) {
	e := &Error{Status: 422, Title: "Unprocessable Entity", Detail: "validation failed",
		Errors: []FieldError{{Location: "body.x", Message: "is required"}, {Location: "x", Message: "is required"}}}
	if got, want := e.Error(), "422 Unprocessable Entity: validation failed; x: is required"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	e = &Error{Status: 422, Title: "Unprocessable Entity", Detail: "x: is required", Errors: []FieldError{{Location: "body.x", Message: "is required"}}}
	if got, want := e.Error(), "422 Unprocessable Entity: x: is required"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}
