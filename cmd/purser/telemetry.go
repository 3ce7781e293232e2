package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/otlp"
)

// TelemetryConfig turns on OpenTelemetry traces.
type TelemetryConfig struct {
	// OTLPEndpoint is the OTLP/HTTP URL traces are posted to, as JSON
	// (http://collector:4318/v1/traces). Empty, tracing is off unless
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (a full URL) or
	// OTEL_EXPORTER_OTLP_ENDPOINT (a base URL: /v1/traces is appended) is
	// set; OTEL_EXPORTER_OTLP_HEADERS and OTEL_EXPORTER_OTLP_TIMEOUT apply.
	OTLPEndpoint string `koanf:"otlp_endpoint" yaml:"otlp_endpoint" secret:"url"`
}

// enabled reports whether traces are to be exported.
func (c TelemetryConfig) enabled() bool {
	if os.Getenv("OTEL_SDK_DISABLED") == "true" {
		return false
	}
	return c.OTLPEndpoint != "" || os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// openTelemetry starts exporting traces when configured, and returns what
// flushes and stops the exporter (a no-op when tracing is off). Spans are
// made by the packages through otel's global tracer provider: the HTTP
// middleware (one per request), the store (reads and transactions), the
// queue (one per job, a child of the request that inserted it) and the
// workers (one per driver call).
func openTelemetry(_ context.Context, cfg TelemetryConfig, logger *slog.Logger) (func(context.Context) error, error) {
	if !cfg.enabled() {
		return func(context.Context) error { return nil }, nil
	}
	exp, err := otlp.FromEnv(cfg.OTLPEndpoint)
	if err != nil {
		return nil, fmt.Errorf("config: telemetry.otlp_endpoint: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", "purser"), attribute.String("service.version", purser.Version)))
	if err != nil {
		res = resource.Default()
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	logger.Info("exporting traces over OTLP/HTTP", "url", redactURL(exp.URL))
	return tp.Shutdown, nil
}
