package main

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/purserhq/purser/client"
)

var (
	spansOnce sync.Once
	spans     *tracetest.SpanRecorder
)

// recordSpans makes the process's tracer provider one that records every
// span in memory (the SDK's test recorder). otel's global provider is set
// once per process: tests running beside this one record spans too, so
// it looks at its own trace only.
func recordSpans() *tracetest.SpanRecorder {
	spansOnce.Do(func() {
		spans = tracetest.NewSpanRecorder()
		otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)))
	})
	return spans
}

// TestTraces approves a request under a trace the caller started
// (traceparent) and checks the spans: the HTTP request continues the
// caller's trace, the store's transaction is its child, the provision job
// (worked later, from the queue) is a child of the request that inserted
// it, and the driver's call a child of the job.
func TestTraces(t *testing.T) { eachStore(t, testTraces) }

func testTraces(t *testing.T, env ...string) {
	rec := recordSpans()
	url, token := server(t, env...)
	ctx := context.Background()
	admin := client.New(url, token)
	if _, err := admin.CreateTemplate(ctx, map[string]any{"_id": "traced", "name": "Traced", "driver": "sim",
		"config": map[string]any{"delay": "50ms"}}); err != nil {
		t.Fatal(err)
	}
	dev, _ := admin.CreateUser(ctx, client.UserCreate{Username: "dev", Roles: []string{"dev"}})
	devTok, _ := admin.CreateToken(ctx, client.TokenCreate{Name: "dev", User: dev.ID})
	r, err := client.New(url, devTok.Token).CreateRequest(ctx, client.RequestCreate{ResourceTemplate: "traced"})
	if err != nil {
		t.Fatal(err)
	}
	caller := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{0x70, 0x75, 0x72, 0x73, 0x65, 0x72, 1},
		SpanID: trace.SpanID{0x63, 0x61, 0x6c, 0x6c, 1}, TraceFlags: trace.FlagsSampled})
	traceID := caller.TraceID()
	// A fresh trace id per store: both subtests share the recorder.
	traceID[15] = byte(len(env))
	caller = caller.WithTraceID(traceID)
	parent := "00-" + caller.TraceID().String() + "-" + caller.SpanID().String() + "-01"
	if err := admin.Do(ctx, http.MethodPost, client.APIPath+"/provisionRequests/"+r.ID+"/approve", nil, nil,
		func(req *http.Request) { req.Header.Set("traceparent", parent) }); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.WaitRequest(ctx, r.ID, nil, "DEPLOYED", "FAILED"); err != nil {
		t.Fatal(err)
	}
	find := func(name string) sdktrace.ReadOnlySpan {
		for _, s := range rec.Ended() {
			if s.SpanContext().TraceID() == caller.TraceID() && strings.HasPrefix(s.Name(), name) {
				return s
			}
		}
		return nil
	}
	var httpSpan, tx, job, drv sdktrace.ReadOnlySpan
	eventually(t, "the request's, the transaction's, the job's and the driver's spans ended", func() bool {
		httpSpan, tx, job, drv = find("POST /api/v1/provisionRequests/{id}/"), find("db.transaction"), find("job provision"), find("driver.provision")
		return httpSpan != nil && tx != nil && job != nil && drv != nil
	})
	for _, c := range []struct {
		what          string
		child, parent trace.SpanContext
	}{
		{"the HTTP request's span is the caller's child", httpSpan.Parent(), caller},
		{"the store's transaction is the request's child", tx.Parent(), httpSpan.SpanContext()},
		{"the provision job's span is the request's child", job.Parent(), httpSpan.SpanContext()},
		{"the driver's span is the job's child", drv.Parent(), job.SpanContext()},
	} {
		if c.child.SpanID() != c.parent.SpanID() {
			t.Errorf("%s: parent %s, want %s", c.what, c.child.SpanID(), c.parent.SpanID())
		}
	}
	t.Logf("trace %s: %s -> %s, %s -> %s", caller.TraceID(), httpSpan.Name(), tx.Name(), job.Name(), drv.Name())
}
