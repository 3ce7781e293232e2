// Package sqldb implements Purser's services in SQL that runs unchanged on
// SQLite and PostgreSQL. The engine packages (internal/sqlite,
// internal/postgres) open connections, run migrations and hand this package
// a DB; everything above them sees only purser interfaces.
//
// Conventions: queries are written with ? placeholders (rebound to $n for
// PostgreSQL by the engine's Querier); times are stored as BIGINT Unix
// microseconds on both engines, so that ordering and comparison behave
// identically; booleans are BOOLEAN columns.
package sqldb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	sq "github.com/Masterminds/squirrel"
	"github.com/maypok86/otter/v2"
	"github.com/riverqueue/river"

	"github.com/purserhq/purser"
)

// ErrNoRows is what Row.Scan returns when a query matched nothing, whatever the engine.
var ErrNoRows = errors.New("no rows")

// Rows is the result of a query, as both database/sql and pgx shape it.
type Rows interface {
	// Next advances to the next row and reports whether there is one.
	Next() bool
	// Scan copies the current row's columns into dest.
	Scan(dest ...any) error
	// Err is the error that ended the iteration, if any.
	Err() error
	// Close releases the rows; callers defer it.
	Close()
}

// Row is the result of a single-row query.
type Row interface {
	// Scan copies the row's columns into dest; ErrNoRows when the query
	// found none, whatever the engine.
	Scan(dest ...any) error
}

// Querier runs SQL written with ? placeholders.
type Querier interface {
	// Exec runs a statement and returns how many rows it affected.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Query runs a query; the caller closes the rows.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// QueryRow runs a query for one row; its error, if any, comes from
	// Scan.
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Tx is a write transaction. Native returns the engine's own transaction
// (*sql.Tx or pgx.Tx) for River's InsertTx.
type Tx interface {
	Querier
	// Native returns the engine's own transaction (*sql.Tx or pgx.Tx).
	Native() any
	// Commit makes the transaction's writes visible.
	Commit(ctx context.Context) error
	// Rollback drops the transaction's writes. After Commit it changes
	// nothing (it may return an error, which a deferred call ignores).
	Rollback(ctx context.Context) error
}

// Engine is what an engine package provides.
type Engine struct {
	Name string // "sqlite" or "postgres"
	// Read runs reads outside transactions (SQLite: a pool of read-only
	// connections beside the single writer).
	Read Querier
	// Begin starts a write transaction.
	Begin func(ctx context.Context) (Tx, error)
	// UniqueViolation reports whether err is a unique-constraint violation.
	UniqueViolation func(err error) bool
	// ForeignKeyViolation reports whether err is a foreign-key violation
	// (a row still referred to, or referring to one that is gone).
	ForeignKeyViolation func(err error) bool
	// InsertJob inserts a River job in the transaction tx.
	InsertJob func(ctx context.Context, tx Tx, args river.JobArgs, opts *river.InsertOpts) error
	// Ping checks the database.
	Ping func(ctx context.Context) error
	// Lock takes a lock named key until tx ends, to serialise decisions
	// about one subject (a user's quota). SQLite's single writer already
	// serialises write transactions, so there it does nothing.
	Lock func(ctx context.Context, tx Tx, key string) error
	// Catalog describes the engine's schema and queue, for backups,
	// restores and the operators' metrics.
	Catalog Catalog
}

// DB gives the services their database.
type DB struct {
	Engine
	Logger  *slog.Logger
	NowFunc func() time.Time

	// Sealer encrypts secrets at rest (outputs, webhook secrets).
	Sealer *Sealer
	// Evaluator evaluates templates' footprint expressions.
	Evaluator purser.Evaluator
	// Drivers maps each driver's name to the resource types it makes.
	Drivers map[string][]string
	// ValidateCluster lets the clusters' driver check credentials before
	// anything is probed or stored (a kubeconfig must be inline data).
	// While it is nil, kubeconfigs are refused: none can be checked.
	ValidateCluster func(c *purser.Cluster) error

	// ExecTemplateRoles are the roles granted templates:exec (creating or
	// changing exec templates); nil for purser.Rules' default (admin).
	ExecTemplateRoles []string

	// MaxPending is how many requests one user may have waiting for
	// review at once (purser.DefaultMaxPending when not positive).
	MaxPending int

	// EmailConfigured says the server can send email (an SMTP server is
	// set): only then is email a default channel, or one a user may choose.
	EmailConfigured bool

	// MaxAttempts is how often a job is tried before it is given up (River
	// records it on each job when it is inserted).
	MaxAttempts int

	// auth caches authenticated tokens by hash for AuthCacheTTL, so that a
	// request costs no query to authenticate. Every change to a token or a
	// user empties it on this replica; other replicas see the change within
	// AuthCacheTTL.
	auth *otter.Cache[string, *authEntry]

	// counts caches the totals of lists by their filter for CountCacheTTL,
	// so that a total costs no more than its page however deep the list is
	// paged. Keys carry the number of write transactions this replica had
	// committed when the count ran: a write here makes every cached total
	// stale at once; other replicas' writes show within CountCacheTTL.
	counts *otter.Cache[string, int]
	writes atomic.Uint64
}

// CountCacheTTL bounds how long a list's total may miss another replica's
// writes.
const CountCacheTTL = 5 * time.Second

// AuthCacheTTL bounds how long a replica may honour a token after another
// replica revoked it or deactivated its user.
const AuthCacheTTL = 5 * time.Second

type authEntry struct {
	token purser.Token
	user  purser.User
}

// New returns a DB over the engine.
func New(e Engine, logger *slog.Logger) *DB {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	auth := otter.Must(&otter.Options[string, *authEntry]{
		MaximumSize:      10_000,
		ExpiryCalculator: otter.ExpiryWriting[string, *authEntry](AuthCacheTTL),
	})
	counts := otter.Must(&otter.Options[string, int]{
		MaximumSize:      10_000,
		ExpiryCalculator: otter.ExpiryWriting[string, int](CountCacheTTL),
	})
	return &DB{Engine: traced(e), Logger: logger.With("component", "store"), NowFunc: time.Now, auth: auth, counts: counts, MaxAttempts: 5}
}

// insertJob inserts a job in tx, in its queue, with the configured number
// of attempts.
func (db *DB) insertJob(ctx context.Context, tx Tx, args river.JobArgs, opts *river.InsertOpts) error {
	o := river.InsertOpts{}
	if opts != nil {
		o = *opts
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = db.MaxAttempts
	}
	if o.Queue == "" {
		o.Queue = purser.JobQueue(args.Kind())
	}
	return db.InsertJob(ctx, tx, args, &o)
}

// forgetAuth empties the authentication cache: call it after any change to
// tokens, users or their roles.
func (db *DB) forgetAuth() { db.auth.InvalidateAll() }

func (db *DB) now() time.Time { return db.NowFunc().UTC().Truncate(time.Microsecond) }

// WithTx runs fn in a write transaction, committing when it returns nil.
// Jobs fn inserts through InsertJob commit or roll back with it. The
// transaction is rolled back when fn fails and when it panics (the panic
// then goes on): a transaction left open would hold its connection and its
// locks for good, idle in transaction on PostgreSQL, the single writer on
// SQLite.
func (db *DB) WithTx(ctx context.Context, fn func(tx Tx) error) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// After a commit this does nothing (both engines answer "transaction
	// done", ignored here).
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(tx); err != nil {
		return err
	}
	// Counted before the commit as well as after: a count that runs while
	// the commit lands is filed under the older number.
	db.writes.Add(1)
	err = tx.Commit(ctx)
	db.writes.Add(1)
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// builder builds SQL with ? placeholders; engines rebind.
var builder = sq.StatementBuilder.PlaceholderFormat(sq.Question)

// micros stores a time.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros reads a stored time.
func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func microsPtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := t.UnixMicro()
	return &v
}

func fromMicrosPtr(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := fromMicros(*v)
	return &t
}

// translate turns engine errors into purser errors, once, at the boundary.
func (db *DB) translate(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNoRows):
		return purser.Errorf(purser.ENOTFOUND, "%s not found", what)
	case db.UniqueViolation != nil && db.UniqueViolation(err):
		return &purser.Error{Code: purser.ECONFLICT, Message: what + " already exists", Err: err}
	}
	var pe *purser.Error
	if errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}
