package otlp_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/purserhq/purser/internal/otlp"
)

// TestExport posts two spans, parent and child, to a collector and checks
// what it received: OTLP JSON with hex ids and the parent link.
func TestExport(t *testing.T) {
	got := make(chan []byte, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("X-Key") != "k" {
			t.Errorf("%s %s %v", r.Method, r.URL.Path, r.Header)
		}
		b, _ := io.ReadAll(r.Body)
		got <- b
	}))
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "X-Key=k")
	exp, err := otlp.FromEnv("")
	if err != nil || exp == nil {
		t.Fatalf("FromEnv: %v %v", exp, err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	ctx, parent := tp.Tracer("test").Start(context.Background(), "parent")
	_, child := tp.Tracer("test").Start(ctx, "child")
	child.End()
	var doc struct {
		ResourceSpans []struct {
			ScopeSpans []struct {
				Spans []struct {
					TraceID, SpanID, ParentSpanID, Name string
				}
			}
		}
	}
	if err := json.Unmarshal(<-got, &doc); err != nil {
		t.Fatal(err)
	}
	s := doc.ResourceSpans[0].ScopeSpans[0].Spans[0]
	if s.Name != "child" || s.TraceID != parent.SpanContext().TraceID().String() || s.ParentSpanID != parent.SpanContext().SpanID().String() {
		t.Errorf("exported %+v; want child of %s", s, parent.SpanContext().SpanID())
	}
	parent.End()
	<-got
}

// TestFromEnvOff returns no exporter when no endpoint is set.
func TestFromEnvOff(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	if exp, err := otlp.FromEnv(""); exp != nil || err != nil {
		t.Errorf("FromEnv with nothing set: %v %v; want nil", exp, err)
	}
}
