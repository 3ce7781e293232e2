// Package otlp exports OpenTelemetry spans to a collector over OTLP/HTTP
// with the JSON encoding. It stands in for the SDK's otlptracehttp
// exporter, whose configuration package links gRPC (and through it
// html/template's reflection) into the binary; JSON over HTTP needs only
// the standard library. It knows nothing of Purser.
package otlp

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Exporter posts batches of spans to URL (…/v1/traces).
type Exporter struct {
	URL     string
	Headers map[string]string
	Client  *http.Client
}

var _ sdktrace.SpanExporter = (*Exporter)(nil)

// FromEnv returns an exporter for endpoint (a full URL; "" takes
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT
// with /v1/traces appended) with OTEL_EXPORTER_OTLP_HEADERS
// (key=value,...) and OTEL_EXPORTER_OTLP_TIMEOUT (ms, default 10 000), or
// nil when no endpoint is set.
func FromEnv(endpoint string) (*Exporter, error) {
	if endpoint == "" {
		endpoint = os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	}
	if endpoint == "" {
		if base := os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT"); base != "" {
			endpoint = strings.TrimRight(base, "/") + "/v1/traces"
		}
	}
	if endpoint == "" {
		return nil, nil
	}
	if !strings.HasPrefix(endpoint, "http://") && !strings.HasPrefix(endpoint, "https://") {
		return nil, fmt.Errorf("OTLP endpoint %q is not an http:// or https:// URL", endpoint)
	}
	timeout := 10 * time.Second
	if ms, err := strconv.Atoi(os.Getenv("OTEL_EXPORTER_OTLP_TIMEOUT")); err == nil && ms > 0 {
		timeout = time.Duration(ms) * time.Millisecond
	}
	e := &Exporter{URL: endpoint, Headers: map[string]string{}, Client: &http.Client{Timeout: timeout}}
	for _, kv := range strings.Split(os.Getenv("OTEL_EXPORTER_OTLP_HEADERS"), ",") {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.TrimSpace(k) != "" {
			e.Headers[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return e, nil
}

// ExportSpans implements sdktrace.SpanExporter.
func (e *Exporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if len(spans) == 0 {
		return nil
	}
	body, err := json.Marshal(Request(spans))
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range e.Headers {
		req.Header.Set(k, v)
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		return fmt.Errorf("otlp export: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("otlp export: %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// Shutdown implements sdktrace.SpanExporter.
func (e *Exporter) Shutdown(context.Context) error { return nil }

// The OTLP JSON encoding (protobuf's JSON mapping, ids in hex).
type (
	exportRequest struct {
		ResourceSpans []resourceSpans `json:"resourceSpans"`
	}
	resourceSpans struct {
		Resource   resourceJSON `json:"resource"`
		ScopeSpans []scopeSpans `json:"scopeSpans"`
	}
	resourceJSON struct {
		Attributes []keyValue `json:"attributes"`
	}
	scopeSpans struct {
		Scope scope      `json:"scope"`
		Spans []spanJSON `json:"spans"`
	}
	scope struct {
		Name    string `json:"name"`
		Version string `json:"version,omitempty"`
	}
	spanJSON struct {
		TraceID      string      `json:"traceId"`
		SpanID       string      `json:"spanId"`
		ParentSpanID string      `json:"parentSpanId,omitempty"`
		Name         string      `json:"name"`
		Kind         int         `json:"kind"`
		Start        string      `json:"startTimeUnixNano"`
		End          string      `json:"endTimeUnixNano"`
		Attributes   []keyValue  `json:"attributes,omitempty"`
		Events       []eventJSON `json:"events,omitempty"`
		Status       statusJSON  `json:"status"`
	}
	eventJSON struct {
		Time       string     `json:"timeUnixNano"`
		Name       string     `json:"name"`
		Attributes []keyValue `json:"attributes,omitempty"`
	}
	statusJSON struct {
		Code    int    `json:"code,omitempty"`
		Message string `json:"message,omitempty"`
	}
	keyValue struct {
		Key   string         `json:"key"`
		Value map[string]any `json:"value"`
	}
)

// Request is the OTLP export request of spans, grouped by resource and
// instrumentation scope (exported for tests).
func Request(spans []sdktrace.ReadOnlySpan) any {
	req := exportRequest{}
	type key struct {
		res   string
		scope string
	}
	index := map[key][2]int{}
	resIndex := map[string]int{}
	for _, s := range spans {
		res := ""
		var resAttrs []attribute.KeyValue
		if r := s.Resource(); r != nil {
			res, resAttrs = r.Encoded(attribute.DefaultEncoder()), r.Attributes()
		}
		ri, ok := resIndex[res]
		if !ok {
			ri = len(req.ResourceSpans)
			resIndex[res] = ri
			req.ResourceSpans = append(req.ResourceSpans, resourceSpans{Resource: resourceJSON{Attributes: attrs(resAttrs)}})
		}
		sc := s.InstrumentationScope()
		k := key{res, sc.Name + "\x00" + sc.Version}
		at, ok := index[k]
		if !ok {
			at = [2]int{ri, len(req.ResourceSpans[ri].ScopeSpans)}
			index[k] = at
			req.ResourceSpans[ri].ScopeSpans = append(req.ResourceSpans[ri].ScopeSpans, scopeSpans{Scope: scope{Name: sc.Name, Version: sc.Version}})
		}
		ss := &req.ResourceSpans[at[0]].ScopeSpans[at[1]]
		ss.Spans = append(ss.Spans, span(s))
	}
	return req
}

func span(s sdktrace.ReadOnlySpan) spanJSON {
	sc := s.SpanContext()
	out := spanJSON{TraceID: hex.EncodeToString(traceID(sc)), SpanID: hex.EncodeToString(spanID(sc.SpanID())),
		Name: s.Name(), Kind: kind(s.SpanKind()), Start: nanos(s.StartTime()), End: nanos(s.EndTime()),
		Attributes: attrs(s.Attributes())}
	if p := s.Parent(); p.IsValid() {
		out.ParentSpanID = hex.EncodeToString(spanID(p.SpanID()))
	}
	for _, e := range s.Events() {
		out.Events = append(out.Events, eventJSON{Time: nanos(e.Time), Name: e.Name, Attributes: attrs(e.Attributes)})
	}
	switch s.Status().Code {
	case codes.Ok:
		out.Status.Code = 1
	case codes.Error:
		out.Status.Code = 2
	}
	out.Status.Message = s.Status().Description
	return out
}

func traceID(sc trace.SpanContext) []byte { id := sc.TraceID(); return id[:] }

func spanID(id trace.SpanID) []byte { return id[:] }

func nanos(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }

// kind maps the API's span kinds to OTLP's (which count from 1 as well,
// with 0 unspecified).
func kind(k trace.SpanKind) int {
	if k < trace.SpanKindInternal || k > trace.SpanKindConsumer {
		return 1
	}
	return int(k)
}

func attrs(kvs []attribute.KeyValue) []keyValue {
	out := make([]keyValue, 0, len(kvs))
	for _, kv := range kvs {
		out = append(out, keyValue{Key: string(kv.Key), Value: anyValue(kv.Value)})
	}
	return out
}

// anyValue is an attribute's value as OTLP's AnyValue; a slice is an
// arrayValue of its elements (not its text), as collectors read it.
func anyValue(v attribute.Value) map[string]any {
	array := func(n int, elem func(i int) map[string]any) map[string]any {
		vs := make([]map[string]any, n)
		for i := range vs {
			vs[i] = elem(i)
		}
		return map[string]any{"arrayValue": map[string]any{"values": vs}}
	}
	switch v.Type() {
	case attribute.BOOL:
		return map[string]any{"boolValue": v.AsBool()}
	case attribute.INT64:
		return map[string]any{"intValue": strconv.FormatInt(v.AsInt64(), 10)}
	case attribute.FLOAT64:
		return map[string]any{"doubleValue": v.AsFloat64()}
	case attribute.BOOLSLICE:
		s := v.AsBoolSlice()
		return array(len(s), func(i int) map[string]any { return anyValue(attribute.BoolValue(s[i])) })
	case attribute.INT64SLICE:
		s := v.AsInt64Slice()
		return array(len(s), func(i int) map[string]any { return anyValue(attribute.Int64Value(s[i])) })
	case attribute.FLOAT64SLICE:
		s := v.AsFloat64Slice()
		return array(len(s), func(i int) map[string]any { return anyValue(attribute.Float64Value(s[i])) })
	case attribute.STRINGSLICE:
		s := v.AsStringSlice()
		return array(len(s), func(i int) map[string]any { return map[string]any{"stringValue": s[i]} })
	case attribute.STRING:
		return map[string]any{"stringValue": v.AsString()}
	default:
		return map[string]any{"stringValue": v.String()}
	}
}
