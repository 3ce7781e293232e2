package cache

import (
	"context"
	"time"

	"github.com/maypok86/otter/v2"
)

// Memory is the in-process backend: this replica's alone.
type Memory struct {
	c *otter.Cache[string, memoryEntry]
}

type memoryEntry struct {
	val []byte
	ttl time.Duration
}

// NewMemory returns an in-process backend of at most max entries (0:
// 10,000).
func NewMemory(max int) *Memory {
	if max <= 0 {
		max = 10_000
	}
	return &Memory{c: otter.Must(&otter.Options[string, memoryEntry]{
		MaximumSize: max,
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, memoryEntry]) time.Duration {
			return e.Value.ttl
		}),
	})}
}

// Get implements Backend.
func (m *Memory) Get(_ context.Context, key string) ([]byte, bool, error) {
	e, ok := m.c.GetIfPresent(key)
	return e.val, ok, nil
}

// Set implements Backend.
func (m *Memory) Set(_ context.Context, key string, val []byte, ttl time.Duration) error {
	m.c.Set(key, memoryEntry{val: val, ttl: ttl})
	return nil
}

// Delete implements Backend.
func (m *Memory) Delete(_ context.Context, keys ...string) error {
	for _, k := range keys {
		m.c.Invalidate(k)
	}
	return nil
}

// Check implements Backend: memory is always there.
func (m *Memory) Check(context.Context) error { return nil }

// Close implements Backend.
func (m *Memory) Close() {}
