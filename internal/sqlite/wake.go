package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"
)

// wakeDriver is riversqlite's driver with a listener that this process can
// wake. SQLite has no LISTEN/NOTIFY: riversqlite appends a notification to
// its river_notification table when a job is inserted in a transaction and
// its listener polls that table every 50 ms (a constant of the driver), so
// a job inserted by a request waited 25 ms on average, 50 ms at worst,
// before a producer heard of it. SQLite is one process (one writer, no
// replicas), so the store knows when a transaction that inserted jobs has
// committed: it wakes the listener, which polls the table at once and
// delivers the notification through River's usual path (the insert
// limiter and the producers' fetch cooldown still apply).
type wakeDriver struct {
	*riversqlite.Driver
	wake chan struct{}
}

func newWakeDriver(db *sql.DB, wake chan struct{}) *wakeDriver {
	return &wakeDriver{Driver: riversqlite.New(db), wake: wake}
}

// GetListener wraps the driver's polling listener.
func (d *wakeDriver) GetListener(params *riverdriver.GetListenenerParams) riverdriver.Listener {
	return &wakeListener{Listener: d.Driver.GetListener(params), wake: d.wake}
}

type wakeListener struct {
	riverdriver.Listener
	wake <-chan struct{}
}

// WaitForNotification waits as riversqlite's listener does, but a wake cuts
// its sleep short: the inner wait is cancelled and started again, and a new
// wait polls the table before it sleeps.
func (l *wakeListener) WaitForNotification(ctx context.Context) (*riverdriver.Notification, error) {
	for {
		inner, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			select {
			case <-l.wake:
				cancel()
			case <-done:
			}
		}()
		n, err := l.Listener.WaitForNotification(inner)
		close(done)
		cancel()
		if err != nil && errors.Is(err, context.Canceled) && ctx.Err() == nil {
			continue // woken: poll again now
		}
		return n, err
	}
}

// signal wakes the listener if it is not already due to wake.
func signal(wake chan<- struct{}) {
	select {
	case wake <- struct{}{}:
	default:
	}
}
