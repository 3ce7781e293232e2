package purser

import (
	"context"
	"time"
)

// LogWriter receives a job's output line by line.
type LogWriter interface {
	// WriteLine appends one line to the log; stream is stdout, stderr, or
	// purser for Purser's own notes. It may be called from several
	// goroutines and never blocks on storage: lines past the log's limits
	// are dropped (and the drop noted).
	WriteLine(stream, line string)
}

// LogLine is one line of a job's log.
type LogLine struct {
	Seq    int64
	Time   time.Time
	Stream string // stdout, stderr, or purser for Purser's own notes
	Line   string
}

// MaxLogPage is the most log lines one read returns.
const MaxLogPage = 5000

// LogService reads jobs' logs.
type LogService interface {
	// FindLogs returns a request's log lines after seq, at most limit.
	FindLogs(ctx context.Context, requestID string, afterSeq int64, limit int) ([]LogLine, error)
}

// JobLogs opens the logs jobs write their output to.
type JobLogs interface {
	// OpenJobLog starts the log of one job of a request's.
	OpenJobLog(requestID string) JobLog
}

// JobLog is one job's log. Close flushes it and reports lines that could
// not be written: a lost line is an error someone must see.
type JobLog interface {
	LogWriter
	// Close writes the lines still buffered and returns an error when a
	// line could not be written (lines cut at the log's limits are noted
	// in the log, not an error); the worker that opened the log calls it
	// once, when the job ends.
	Close() error
}
