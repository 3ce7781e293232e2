package otlp_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/purserhq/purser/internal/otlp"
)

// TestTheCollectorReadsWhatWeSend decodes the exporter's body with the
// OpenTelemetry Collector's own OTLP/JSON decoder (pdata's
// ptrace.JSONUnmarshaler, what an otlphttp receiver runs), so ids, times,
// kinds, attributes of every type, status and events are read as a real
// collector reads them, not as this package thinks they are written.
func TestTheCollectorReadsWhatWeSend(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	res := sdkresource.NewSchemaless(attribute.String("service.name", "purser"))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithResource(res))
	ctx, parent := tp.Tracer("purser/api").Start(context.Background(), "POST /api/v1/requests", trace.WithSpanKind(trace.SpanKindServer))
	_, child := tp.Tracer("purser/store").Start(ctx, "store.tx", trace.WithSpanKind(trace.SpanKindClient))
	child.SetAttributes(attribute.String("db.system", "sqlite"), attribute.Int64("rows", 3), attribute.Bool("retried", true),
		attribute.Float64("ratio", 0.5), attribute.StringSlice("tables", []string{"requests", "events"}), attribute.Int64Slice("ids", []int64{7, 8}))
	child.AddEvent("commit", trace.WithAttributes(attribute.Int("attempt", 1)))
	child.SetStatus(codes.Error, "conflict")
	child.End()
	parent.End()
	spans := rec.Ended()

	body, err := json.Marshal(otlp.Request(spans))
	if err != nil {
		t.Fatal(err)
	}
	td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(body)
	if err != nil {
		t.Fatalf("the collector refuses the body: %v\n%s", err, body)
	}
	if td.SpanCount() != 2 {
		t.Fatalf("the collector read %d spans, want 2:\n%s", td.SpanCount(), body)
	}
	rs := td.ResourceSpans().At(0)
	if v, ok := rs.Resource().Attributes().Get("service.name"); !ok || v.Str() != "purser" {
		t.Errorf("resource service.name = %v", v.AsString())
	}
	got := map[string]ptrace.Span{}
	for i := 0; i < rs.ScopeSpans().Len(); i++ {
		ss := rs.ScopeSpans().At(i)
		for j := 0; j < ss.Spans().Len(); j++ {
			s := ss.Spans().At(j)
			got[s.Name()] = s
		}
	}
	p, c := got["POST /api/v1/requests"], got["store.tx"]
	if p.TraceID().String() != parent.SpanContext().TraceID().String() || p.SpanID().String() != parent.SpanContext().SpanID().String() {
		t.Errorf("parent ids %s/%s, want %s/%s", p.TraceID(), p.SpanID(), parent.SpanContext().TraceID(), parent.SpanContext().SpanID())
	}
	if c.TraceID() != p.TraceID() || c.ParentSpanID() != p.SpanID() {
		t.Errorf("child %s parent %s, want trace %s parent %s", c.TraceID(), c.ParentSpanID(), p.TraceID(), p.SpanID())
	}
	if p.Kind() != ptrace.SpanKindServer || c.Kind() != ptrace.SpanKindClient {
		t.Errorf("kinds %v %v", p.Kind(), c.Kind())
	}
	if d := c.EndTimestamp().AsTime().Sub(c.StartTimestamp().AsTime()); d < 0 || d > time.Minute ||
		c.StartTimestamp().AsTime().Sub(spans[0].StartTime()).Abs() > time.Minute {
		t.Errorf("times %v .. %v", c.StartTimestamp(), c.EndTimestamp())
	}
	attrs := c.Attributes().AsRaw()
	want := map[string]any{"db.system": "sqlite", "rows": int64(3), "retried": true, "ratio": 0.5, "tables": []any{"requests", "events"}, "ids": []any{int64(7), int64(8)}}
	for k, v := range want {
		b1, _ := json.Marshal(attrs[k])
		b2, _ := json.Marshal(v)
		if string(b1) != string(b2) {
			t.Errorf("attribute %s = %s, want %s", k, b1, b2)
		}
	}
	if c.Status().Code() != ptrace.StatusCodeError || c.Status().Message() != "conflict" {
		t.Errorf("status %v %q", c.Status().Code(), c.Status().Message())
	}
	if c.Events().Len() != 1 || c.Events().At(0).Name() != "commit" {
		t.Errorf("events: %d", c.Events().Len())
	}
}
