package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"reflect"
)

// connStmts bounds the statements one connection keeps prepared; past it,
// a new text runs as the driver runs it, parsed on every call.
const connStmts = 256

// openCached opens dsn with modernc.org/sqlite through connections that
// keep each query text prepared after its first run. The driver prepares,
// runs and finalizes a statement on every Exec or Query it is handed
// with its text, and River's driver hands it every statement that way:
// in a burst of provisions, SQLite's parser was a tenth of the process's
// CPU, most of it River's fetch, insert and completion statements.
func openCached(dsn string) (*sql.DB, error) {
	probe, err := sql.Open("sqlite", "")
	if err != nil {
		return nil, err
	}
	d := probe.Driver()
	_ = probe.Close()
	return sql.OpenDB(cachedConnector{dsn: dsn, d: d}), nil
}

type cachedConnector struct {
	dsn string
	d   driver.Driver
}

// Connect implements driver.Connector.
func (c cachedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	conn, err := c.d.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return newCachedConn(conn)
}

// Driver implements driver.Connector.
func (c cachedConnector) Driver() driver.Driver { return c.d }

// sqliteConn is what modernc.org/sqlite's connection implements, all of
// which cachedConn passes on.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type sqliteStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// cachedStmt is a prepared statement; busy while rows read from it are
// open (a second use of the same text meanwhile runs unprepared).
type cachedStmt struct {
	s    sqliteStmt
	busy bool
}

// cachedConn is one connection and its prepared statements. database/sql
// uses a connection from one goroutine at a time (and closes rows under
// the same lock), so it needs no lock of its own.
type cachedConn struct {
	sqliteConn
	stmts map[string]*cachedStmt
}

func newCachedConn(c driver.Conn) (driver.Conn, error) {
	sc, ok := c.(sqliteConn)
	if !ok {
		_ = c.Close()
		return nil, errors.New("sqlite: the driver's connection lacks an interface the statement cache passes on: " + reflect.TypeOf(c).String())
	}
	return &cachedConn{sqliteConn: sc, stmts: map[string]*cachedStmt{}}, nil
}

// stmt returns query's prepared statement, marked busy, preparing it on
// first use; nil when it is in use or the cache is full.
func (c *cachedConn) stmt(ctx context.Context, query string) *cachedStmt {
	if cs, ok := c.stmts[query]; ok {
		if cs.busy {
			return nil
		}
		cs.busy = true
		return cs
	}
	if len(c.stmts) >= connStmts {
		return nil
	}
	s, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil // the driver's own path reports it
	}
	ss, ok := s.(sqliteStmt)
	if !ok {
		_ = s.Close()
		return nil
	}
	cs := &cachedStmt{s: ss, busy: true}
	c.stmts[query] = cs
	return cs
}

// drop finalizes a statement that failed: its state is the driver's to
// know, so a new one is prepared next time.
func (c *cachedConn) drop(query string, cs *cachedStmt) {
	delete(c.stmts, query)
	_ = cs.s.Close()
}

// ExecContext implements driver.ExecerContext.
func (c *cachedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs := c.stmt(ctx, query)
	if cs == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	res, err := cs.s.ExecContext(ctx, args)
	cs.busy = false
	if err != nil {
		c.drop(query, cs)
	}
	return res, err
}

// QueryContext implements driver.QueryerContext.
func (c *cachedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs := c.stmt(ctx, query)
	if cs == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := cs.s.QueryContext(ctx, args)
	if err != nil {
		cs.busy = false
		c.drop(query, cs)
		return nil, err
	}
	return &cachedRows{Rows: rows, release: func() { cs.busy = false }}, nil
}

// Close finalizes the statements and closes the connection.
func (c *cachedConn) Close() error {
	for q, cs := range c.stmts {
		_ = cs.s.Close()
		delete(c.stmts, q)
	}
	return c.sqliteConn.Close()
}

// sqliteRows is what modernc.org/sqlite's rows implement.
type sqliteRows interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

// cachedRows are rows read from a cached statement: closing them resets
// the statement (the driver's rows do) and frees it for the next use.
type cachedRows struct {
	driver.Rows
	release func()
}

// Close implements driver.Rows.
func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	if r.release != nil {
		r.release()
		r.release = nil
	}
	return err
}

func (r *cachedRows) typed() (sqliteRows, bool) { s, ok := r.Rows.(sqliteRows); return s, ok }

// ColumnTypeDatabaseTypeName implements driver.RowsColumnTypeDatabaseTypeName.
func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if s, ok := r.typed(); ok {
		return s.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

// ColumnTypeLength implements driver.RowsColumnTypeLength.
func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	if s, ok := r.typed(); ok {
		return s.ColumnTypeLength(i)
	}
	return 0, false
}

// ColumnTypeNullable implements driver.RowsColumnTypeNullable.
func (r *cachedRows) ColumnTypeNullable(i int) (bool, bool) {
	if s, ok := r.typed(); ok {
		return s.ColumnTypeNullable(i)
	}
	return false, false
}

// ColumnTypePrecisionScale implements driver.RowsColumnTypePrecisionScale.
func (r *cachedRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if s, ok := r.typed(); ok {
		return s.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

// ColumnTypeScanType implements driver.RowsColumnTypeScanType.
func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if s, ok := r.typed(); ok {
		return s.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}
