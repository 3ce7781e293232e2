package worker

import (
	"context"
	"encoding/json"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// tracer makes the workers' spans: one per job worked, one per driver call.
var tracer = otel.Tracer("github.com/purserhq/purser/internal/worker")

// traceMetadataKey is where a job's metadata carries the trace context of
// the request (or job) that inserted it, as W3C trace context fields.
const traceMetadataKey = "otel"

var propagator = propagation.TraceContext{}

// Tracing carries trace context from the inserting request to the job: at
// insertion it writes the active span's context into the job's metadata;
// when the job is worked, its span is a child of that one, whichever
// replica works it and however long after.
type Tracing struct {
	river.MiddlewareDefaults
}

var (
	_ rivertype.JobInsertMiddleware = &Tracing{}
	_ rivertype.WorkerMiddleware    = &Tracing{}
)

// InsertMany implements rivertype.JobInsertMiddleware.
func (*Tracing) InsertMany(ctx context.Context, params []*rivertype.JobInsertParams, doInner func(context.Context) ([]*rivertype.JobInsertResult, error)) ([]*rivertype.JobInsertResult, error) {
	if trace.SpanContextFromContext(ctx).IsValid() {
		carrier := propagation.MapCarrier{}
		propagator.Inject(ctx, carrier)
		for _, p := range params {
			meta := map[string]any{}
			if len(p.Metadata) > 0 {
				_ = json.Unmarshal(p.Metadata, &meta)
			}
			meta[traceMetadataKey] = map[string]string(carrier)
			if b, err := json.Marshal(meta); err == nil {
				p.Metadata = b
			}
		}
	}
	return doInner(ctx)
}

// Work implements rivertype.WorkerMiddleware.
func (*Tracing) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	var meta struct {
		Otel map[string]string `json:"otel"`
	}
	if len(job.Metadata) > 0 && json.Unmarshal(job.Metadata, &meta) == nil && meta.Otel != nil {
		ctx = propagator.Extract(ctx, propagation.MapCarrier(meta.Otel))
	}
	ctx, span := tracer.Start(ctx, "job "+job.Kind, trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("job.kind", job.Kind), attribute.Int64("job.id", job.ID),
			attribute.Int("job.attempt", job.Attempt), attribute.String("job.queue", job.Queue)))
	defer span.End()
	err := doInner(ctx)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "")
	}
	return err
}

// driverSpan starts the span of one driver call.
func driverSpan(ctx context.Context, op, driver, requestID string) (context.Context, trace.Span) {
	return tracer.Start(ctx, "driver."+op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("driver.name", driver), attribute.String("request.id", requestID)))
}

// endDriverSpan ends a driver call's span with its error.
func endDriverSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "")
	}
	span.End()
}
