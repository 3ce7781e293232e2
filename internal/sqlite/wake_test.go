package sqlite

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river/riverdriver"
)

// sleepyListener is a listener whose table never has a notification: each
// wait polls once (counted), then sleeps until its context ends.
type sleepyListener struct {
	riverdriver.Listener
	polls chan struct{} // one value per poll
}

func (l *sleepyListener) WaitForNotification(ctx context.Context) (*riverdriver.Notification, error) {
	l.polls <- struct{}{}
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestAWakePollsTheNotificationTableAgainAtOnce(t *testing.T) {
	inner := &sleepyListener{polls: make(chan struct{}, 8)}
	wake := make(chan struct{}, 1)
	l := &wakeListener{Listener: inner, wake: wake}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := l.WaitForNotification(ctx)
		done <- err
	}()
	poll := func(which string) {
		t.Helper()
		select {
		case <-inner.polls:
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s poll of the table", which)
		}
	}
	poll("first")
	signal(wake)
	poll("woken") // the sleep is cut short: the table is polled again at once
	signal(wake)
	poll("woken again")
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
