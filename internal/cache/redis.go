package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/redis/rueidis"
)

// opTimeout bounds each Redis call: a Redis that hangs costs a read this
// much before it falls through to the source.
const opTimeout = 500 * time.Millisecond

// localTTL is how long an answer stays in this process's client-side
// cache at most; Redis tells every replica at once when a key changes or
// is deleted (RESP3 client tracking), so it is a ceiling, not a bound on
// staleness.
const localTTL = time.Minute

// writtenFor is how long after a write this process reads the key from
// Redis rather than its client-side cache: far longer than an
// invalidation takes to arrive.
const writtenFor = 2 * time.Second

// Redis is the backend shared by every replica. It connects on first use
// and again after Redis went away, at most once a second.
type Redis struct {
	opt rueidis.ClientOption
	// written holds the keys this process set or deleted lately: Redis
	// tells client-side caches of a change asynchronously, this process's
	// own included, so these keys are read from Redis itself meanwhile.
	written *otter.Cache[string, struct{}]

	mu      sync.Mutex
	client  rueidis.Client
	tried   time.Time
	lastErr error
}

// NewRedis returns a backend for the Redis at url (redis://[user:password@]host:port/db).
func NewRedis(url string) (*Redis, error) {
	opt, err := rueidis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("cache.redis_url: %w", err)
	}
	opt.Dialer.Timeout = time.Second
	opt.ConnWriteTimeout = time.Second
	opt.DisableRetry = true // a failed read falls through to the source instead
	return &Redis{opt: opt, written: otter.Must(&otter.Options[string, struct{}]{
		MaximumSize: 10_000, ExpiryCalculator: otter.ExpiryWriting[string, struct{}](writtenFor)})}, nil
}

// conn returns the client, connecting when there is none.
func (r *Redis) conn() (rueidis.Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client != nil {
		return r.client, nil
	}
	if time.Since(r.tried) < time.Second {
		return nil, r.lastErr
	}
	r.tried = time.Now()
	c, err := rueidis.NewClient(r.opt)
	if err != nil {
		r.lastErr = fmt.Errorf("connect to redis: %w", err)
		return nil, r.lastErr
	}
	r.client = c
	return c, nil
}

// Get implements Backend: from this process's client-side cache when Redis
// has not said the key changed, else from Redis.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, bool, error) {
	c, err := r.conn()
	if err != nil {
		return nil, false, err
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	var b []byte
	err = again(func() (err error) {
		if _, recent := r.written.GetIfPresent(key); recent {
			b, err = c.Do(ctx, c.B().Get().Key(key).Build()).AsBytes()
		} else {
			b, err = c.DoCache(ctx, c.B().Get().Key(key).Cache(), localTTL).AsBytes()
		}
		return err
	})
	if rueidis.IsRedisNil(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

// Set implements Backend.
func (r *Redis) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	c, err := r.conn()
	if err != nil {
		return err
	}
	r.written.Set(key, struct{}{})
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	return again(func() error {
		return c.Do(ctx, c.B().Set().Key(key).Value(rueidis.BinaryString(val)).Px(ttl).Build()).Error()
	})
}

// Delete implements Backend: every replica's client-side copy is
// invalidated by Redis.
func (r *Redis) Delete(ctx context.Context, keys ...string) error {
	c, err := r.conn()
	if err != nil {
		return err
	}
	for _, k := range keys {
		r.written.Set(k, struct{}{})
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	return again(func() error { return c.Do(ctx, c.B().Del().Key(keys...).Build()).Error() })
}

// Check implements Backend: a PING.
func (r *Redis) Check(ctx context.Context) error {
	c, err := r.conn()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if err := c.Do(ctx, c.B().Ping().Build()).Error(); err != nil {
		return errors.Join(errors.New("redis unreachable; reads fall through to the sources"), err)
	}
	return nil
}

// Close implements Backend.
func (r *Redis) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client != nil {
		r.client.Close()
		r.client = nil
	}
}

// again calls do a second time when the first failed on a connection
// Redis closed (it restarted): the first call after a restart may still
// go to the old connection, and a second opens a new one. Other errors,
// and a Redis still away, fail at once.
func again(do func() error) error {
	err := do()
	if err != nil && !rueidis.IsRedisNil(err) && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, rueidis.ErrClosing)) {
		err = do()
	}
	return err
}
