package sqldb

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// tracer makes the store's spans: one per read outside a transaction, one
// per write transaction (its statements are not spans of their own). With
// no tracer provider set (tracing off) they cost next to nothing.
var tracer = otel.Tracer("github.com/purserhq/purser/internal/sqldb")

// traced wraps an engine's reads and transactions in spans.
func traced(e Engine) Engine {
	e.Read = tracedQuerier{q: e.Read, system: e.Name}
	begin := e.Begin
	e.Begin = func(ctx context.Context) (Tx, error) {
		ctx, span := tracer.Start(ctx, "db.transaction", trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("db.system.name", e.Name)))
		tx, err := begin(ctx)
		if err != nil {
			endSpan(span, err)
			return nil, err
		}
		return &tracedTx{Tx: tx, span: span}, nil
	}
	return e
}

func endSpan(span trace.Span, err error) {
	if err != nil && err != ErrNoRows {
		span.RecordError(err)
		span.SetStatus(codes.Error, "")
	}
	span.End()
}

// operation is a query's first word (SELECT, INSERT...), a span's name.
func operation(query string) string {
	op, _, _ := strings.Cut(strings.TrimSpace(query), " ")
	return "db." + strings.ToLower(op)
}

type tracedQuerier struct {
	q      Querier
	system string
}

func (t tracedQuerier) start(ctx context.Context, query string) (context.Context, trace.Span) {
	return tracer.Start(ctx, operation(query), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", t.system)))
}

func (t tracedQuerier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	ctx, span := t.start(ctx, query)
	n, err := t.q.Exec(ctx, query, args...)
	endSpan(span, err)
	return n, err
}

func (t tracedQuerier) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	ctx, span := t.start(ctx, query)
	rows, err := t.q.Query(ctx, query, args...)
	endSpan(span, err)
	return rows, err
}

func (t tracedQuerier) QueryRow(ctx context.Context, query string, args ...any) Row {
	ctx, span := t.start(ctx, query)
	return tracedRow{r: t.q.QueryRow(ctx, query, args...), span: span}
}

type tracedRow struct {
	r    Row
	span trace.Span
}

func (r tracedRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	endSpan(r.span, err)
	return err
}

// tracedTx ends its span when it commits or rolls back.
type tracedTx struct {
	Tx
	span trace.Span
}

func (t *tracedTx) Commit(ctx context.Context) error {
	err := t.Tx.Commit(ctx)
	endSpan(t.span, err)
	return err
}

func (t *tracedTx) Rollback(ctx context.Context) error {
	err := t.Tx.Rollback(ctx)
	if t.span.IsRecording() {
		t.span.SetAttributes(attribute.Bool("db.rolled_back", true))
		t.span.End()
	}
	return err
}

// Unwrap returns the engine's own querier (for the engines' tests).
func (t tracedQuerier) Unwrap() Querier { return t.q }
