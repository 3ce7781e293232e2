package sqldb

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/purserhq/purser"
)

// Job log limits: a job keeps at most this much of its output; a note says
// how much was cut.
const (
	MaxJobLogLines = 20_000
	MaxJobLogBytes = 4 << 20
	logFlushEvery  = 250 * time.Millisecond
	logFlushLines  = 500
	logInsertRows  = 200 // rows per INSERT: 1 000 parameters, well under either engine's limit
)

// JobLog writes a job's output to the request's log in batches, so that
// followers see it live and a chatty command costs few transactions.
type JobLog struct {
	db        *DB
	requestID string
	mu        sync.Mutex
	pending   []purser.LogLine
	lines     int
	bytes     int
	dropped   int
	lost      int   // lines a failed write did not keep
	lostErr   error // the first write failure
	wake      chan struct{}
	stop      chan struct{}
	done      chan struct{}
}

// OpenJobLog starts a log for a request's job.
func (db *DB) OpenJobLog(requestID string) *JobLog {
	l := &JobLog{db: db, requestID: requestID, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go l.loop()
	return l
}

// WriteLine implements purser.LogWriter.
func (l *JobLog) WriteLine(stream, line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lines >= MaxJobLogLines || l.bytes+len(line) > MaxJobLogBytes {
		l.dropped++
		return
	}
	l.lines++
	l.bytes += len(line)
	l.pending = append(l.pending, purser.LogLine{Time: l.db.now(), Stream: stream, Line: line})
	if len(l.pending) >= logFlushLines {
		select {
		case l.wake <- struct{}{}: // flush now
		default:
		}
	}
}

func (l *JobLog) loop() {
	defer close(l.done)
	t := time.NewTicker(logFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-l.wake:
		case <-l.stop:
			l.flush()
			return
		}
		l.flush()
	}
}

func (l *JobLog) flush() {
	l.mu.Lock()
	batch := l.pending
	l.pending = nil
	l.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := l.db.appendLogs(ctx, l.requestID, batch); err != nil {
		l.mu.Lock()
		l.lost += len(batch)
		if l.lostErr == nil {
			l.lostErr = err
		}
		l.mu.Unlock()
	}
}

// LostLinesError is what Close returns when writes failed: how many lines
// the log did not keep, and the first failure.
type LostLinesError struct {
	Lines int
	Err   error
}

func (e *LostLinesError) Error() string {
	return fmt.Sprintf("%d log lines were lost: %v", e.Lines, e.Err)
}

func (e *LostLinesError) Unwrap() error { return e.Err }

// Close writes what is left (and a note if lines were cut). If any write
// failed, it tries once more to leave a note in the log, so that a reader
// knows lines are missing, and returns a *LostLinesError.
func (l *JobLog) Close() error {
	l.mu.Lock()
	if l.dropped > 0 {
		l.pending = append(l.pending, purser.LogLine{Time: l.db.now(), Stream: "purser",
			Line: fmt.Sprintf("[log cut: %d more lines were not kept; a job keeps %d lines or %d MiB]", l.dropped, MaxJobLogLines, MaxJobLogBytes>>20)})
	}
	l.mu.Unlock()
	close(l.stop)
	<-l.done
	if l.lost == 0 {
		return nil
	}
	err := &LostLinesError{Lines: l.lost, Err: l.lostErr}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	note := purser.LogLine{Time: l.db.now(), Stream: "purser", Line: "[" + err.Error() + "]"}
	if nerr := l.db.appendLogs(ctx, l.requestID, []purser.LogLine{note}); nerr != nil {
		return fmt.Errorf("%w; the note saying so was lost too: %v", err, nerr)
	}
	return err
}

// appendLogs numbers lines after the request's last and inserts them. Two
// jobs of one request may log at once (a purge starts while provisioning
// still logs): the per-request lock makes the second wait for the first's
// commit, so that it reads the right MAX(seq) instead of colliding on it.
func (db *DB) appendLogs(ctx context.Context, requestID string, lines []purser.LogLine) error {
	return db.appendLogsTo(ctx, jobLogTable, requestID, lines)
}

// logTable is a table of logs: job_logs (a request's jobs) or
// hook_run_logs (a hook run's, as its agent streams it).
type logTable struct{ table, key string }

var (
	jobLogTable = logTable{"job_logs", "request_id"}
	hookRunLogs = logTable{"hook_run_logs", "run_id"}
)

// appendLogsTo numbers lines after the log's last and inserts them; a
// log past MaxJobLogLines keeps no more.
func (db *DB) appendLogsTo(ctx context.Context, t logTable, requestID string, lines []purser.LogLine) error {
	return db.WithTx(ctx, func(tx Tx) error {
		if err := db.Lock(ctx, tx, t.table+":"+requestID); err != nil {
			return fmt.Errorf("lock log: %w", err)
		}
		var last *int64
		if err := tx.QueryRow(ctx, "SELECT MAX(seq) FROM "+t.table+" WHERE "+t.key+" = ?", requestID).Scan(&last); err != nil {
			return err
		}
		seq := int64(0)
		if last != nil {
			seq = *last
		}
		if t == hookRunLogs && seq+int64(len(lines)) > MaxJobLogLines {
			// An agent's stream is cut at the job log's limit.
			lines = lines[:max(0, MaxJobLogLines-seq)]
		}
		// A few statements per batch rather than one per line: a chatty
		// command's batch of hundreds of lines is one round trip or two.
		for chunk := range slices.Chunk(lines, logInsertRows) {
			ins := builder.Insert(t.table).Columns(t.key, "seq", "at", "stream", "line")
			for _, ln := range chunk {
				seq++
				ins = ins.Values(requestID, seq, micros(ln.Time), ln.Stream, ln.Line)
			}
			q, args, err := ins.ToSql()
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, q, args...); err != nil {
				return fmt.Errorf("append log: %w", err)
			}
		}
		return nil
	})
}

// LogService implements purser.LogService.
type LogService struct{ db *DB }

// NewLogService returns the log reader over db.
func NewLogService(db *DB) *LogService { return &LogService{db: db} }

// FindLogs returns a request's log after seq: its requester's, or any for
// devops and admins.
func (s *LogService) FindLogs(ctx context.Context, requestID string, afterSeq int64, limit int) ([]purser.LogLine, error) {
	if _, err := NewRequestService(s.db).FindRequestByID(ctx, requestID); err != nil {
		return nil, err
	}
	return s.db.findLogsIn(ctx, jobLogTable, requestID, afterSeq, limit)
}

// findLogsIn reads a log of t after seq, at most limit lines.
func (db *DB) findLogsIn(ctx context.Context, t logTable, id string, afterSeq int64, limit int) ([]purser.LogLine, error) {
	rows, err := db.Read.Query(ctx, "SELECT seq, at, stream, line FROM "+t.table+" WHERE "+t.key+" = ? AND seq > ? ORDER BY seq LIMIT ?",
		id, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("logs: %w", err)
	}
	defer rows.Close()
	out := []purser.LogLine{}
	for rows.Next() {
		var ln purser.LogLine
		var at int64
		if err := rows.Scan(&ln.Seq, &at, &ln.Stream, &ln.Line); err != nil {
			return nil, err
		}
		ln.Time = fromMicros(at)
		out = append(out, ln)
	}
	return out, rows.Err()
}

// JobLogs returns db's job logs as the domain's purser.JobLogs, for
// workers that know no sqldb type.
func (db *DB) JobLogs() purser.JobLogs { return jobLogs{db} }

type jobLogs struct{ db *DB }

// OpenJobLog implements purser.JobLogs.
func (j jobLogs) OpenJobLog(requestID string) purser.JobLog { return j.db.OpenJobLog(requestID) }
