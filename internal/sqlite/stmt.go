package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// maxStmts bounds the statements a stmtCache keeps. Purser's statements
// are a fixed set, save the lists', whose text varies with the filter's
// fields and operators: past the bound, a new text runs unprepared.
const maxStmts = 512

// stmtCache keeps one prepared statement per query text, so that SQLite
// parses each text once per connection instead of on every call
// (modernc.org/sqlite keeps a single statement's prepared form in its
// driver.Stmt; database/sql prepares a Stmt again on each connection of
// the pool that runs it, once). Statements are never evicted: one in use
// by another goroutine cannot be closed under it.
//
// The writer has a single connection, which its transaction holds: a text
// first seen there runs unprepared and is prepared once the transaction
// has ended (prepareSeen).
type stmtCache struct {
	db   *sql.DB
	mu   sync.RWMutex
	m    map[string]*sql.Stmt
	seen map[string]bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, seen: map[string]bool{}}
}

// lookup returns the statement of query if the cache has it; otherwise
// it notes the text for prepareSeen.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.RLock()
	s, ok := c.m[query]
	full := len(c.m)+len(c.seen) >= maxStmts
	c.mu.RUnlock()
	if ok || full {
		return s
	}
	c.mu.Lock()
	c.seen[query] = true
	c.mu.Unlock()
	return nil
}

// prepareSeen prepares the texts lookup noted. Call it with no
// transaction open on the calling goroutine.
func (c *stmtCache) prepareSeen(ctx context.Context) {
	c.mu.Lock()
	var texts []string
	for q := range c.seen {
		texts = append(texts, q)
	}
	clear(c.seen)
	c.mu.Unlock()
	for _, q := range texts {
		// A text that does not prepare (a statement River's driver
		// runs, say) just stays unprepared.
		_, _ = c.get(ctx, q)
	}
}

// get returns the statement of query, preparing it on first use; nil
// when the cache is full.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.RLock()
	s, ok := c.m[query]
	full := len(c.m) >= maxStmts
	c.mu.RUnlock()
	if ok || full {
		return s, nil
	}
	s, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[query]; ok {
		_ = s.Close()
		return old, nil
	}
	if len(c.m) >= maxStmts {
		_ = s.Close()
		return nil, nil
	}
	c.m[query] = s
	return s, nil
}
