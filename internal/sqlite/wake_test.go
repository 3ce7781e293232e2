package sqlite

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river/riverdriver"
)

// sleepyListener is a listener whose table never has a notification: each
// wait polls once (counted), then sleeps until its context ends.
type sleepyListener struct {
	riverdriver.Listener
	polls atomic.Int32
}

func (l *sleepyListener) WaitForNotification(ctx context.Context) (*riverdriver.Notification, error) {
	l.polls.Add(1)
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestAWakePollsTheNotificationTableAgainAtOnce(t *testing.T) {
	inner := &sleepyListener{}
	wake := make(chan struct{}, 1)
	l := &wakeListener{Listener: inner, wake: wake}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := l.WaitForNotification(ctx)
		done <- err
	}()
	waitPolls := func(want int32) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for inner.polls.Load() < want {
			if time.Now().After(deadline) {
				t.Fatalf("polls = %d, want %d", inner.polls.Load(), want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitPolls(1)
	signal(wake)
	waitPolls(2)
	signal(wake)
	waitPolls(3)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("after the caller cancels: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the wait did not end when the caller cancelled")
	}
}
