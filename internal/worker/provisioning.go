package worker

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/notify"
)

// AnalyseWorker estimates new requests and auto-approves what may be.
type AnalyseWorker struct {
	river.WorkerDefaults[purser.AnalyseArgs]
	Requests purser.Analyser
}

// Work implements river.Worker.
func (w *AnalyseWorker) Work(ctx context.Context, job *river.Job[purser.AnalyseArgs]) error {
	return w.Requests.Analyse(ctx, job.Args.RequestID)
}

// driverJob is what the provision and purge workers share.
type driverJob struct {
	Requests purser.ProvisionStore
	Logs     purser.JobLogs
	Drivers  map[string]purser.Driver
	Logger   *slog.Logger
}

// begin prepares a driver call for r: its environment, wired to a fresh
// job log that starts with which attempt this is, and its driver (nil,
// with an error, when this server has none by that name).
func (j driverJob) begin(ctx context.Context, r *purser.Request, phase string, job *rivertype.JobRow) (purser.Environment, purser.Driver, purser.JobLog, error) {
	env, t, err := j.Requests.Environment(ctx, r)
	if err != nil {
		return env, nil, nil, err
	}
	log := j.Logs.OpenJobLog(r.ID)
	env.Log = log
	log.WriteLine("purser", fmt.Sprintf("%s: attempt %d of %d, driver %s", phase, job.Attempt, job.MaxAttempts, t.Driver))
	d, ok := j.Drivers[t.Driver]
	if !ok {
		return env, nil, log, fmt.Errorf("no driver %q on this server", t.Driver)
	}
	return env, d, log, nil
}

// closeLog closes a job's log. Lines it could not keep are an error the
// operator sees in the server's log; the job's own outcome stands, since
// trying the driver again would not bring the lines back.
func (j driverJob) closeLog(ctx context.Context, log purser.JobLog, requestID, phase string) {
	if err := log.Close(); err != nil && j.Logger != nil {
		j.Logger.ErrorContext(ctx, "job log lost lines", "phase", phase, "request_id", requestID, "err", err)
	}
}

// ProvisionWorker creates environments through their template's driver.
type ProvisionWorker struct {
	river.WorkerDefaults[purser.ProvisionArgs]
	driverJob
}

// Work moves the request to INITIATED, calls the driver (idempotent, so a
// retry after a crash converges) and records DEPLOYED, or on the last
// attempt FAILED.
func (w *ProvisionWorker) Work(ctx context.Context, job *river.Job[purser.ProvisionArgs]) error {
	id := job.Args.RequestID
	r, proceed, err := w.Requests.StartProvision(ctx, id)
	if err != nil || !proceed {
		return err
	}
	env, d, log, err := w.begin(ctx, r, "provision", job.JobRow)
	if log == nil {
		return err
	}
	defer w.closeLog(ctx, log, id, "provision")
	ok := d != nil
	var out map[string]string
	if ok {
		pctx, span := driverSpan(ctx, "provision", fmt.Sprintf("%T", d), id)
		out, err = d.Provision(pctx, env)
		endDriverSpan(span, err)
	}
	rctx, cancel := detached(ctx)
	defer cancel()
	if err != nil {
		log.WriteLine("purser", "provision failed: "+firstLine(err.Error()))
	}
	if err != nil && final(job.JobRow) && ok {
		// The last attempt failed: destroy whatever it left half made.
		log.WriteLine("purser", "last attempt: running destroy to clean up")
		if derr := d.Destroy(rctx, env); derr != nil {
			log.WriteLine("purser", "clean-up failed: "+firstLine(derr.Error()))
		}
	}
	var superseded bool
	ferr := whileUnavailable(rctx, func() (err2 error) {
		superseded, err2 = w.Requests.FinishProvision(rctx, purser.ProvisionResult{RequestID: id, Outputs: out, Err: err, Final: final(job.JobRow)})
		return err2
	})
	if ferr != nil {
		return ferr
	}
	if superseded && ok {
		// Purged while we provisioned: the purge may have run before the
		// environment existed. Destroying again is harmless (idempotent).
		return d.Destroy(rctx, env)
	}
	if err != nil && !final(job.JobRow) {
		return err // River retries with backoff
	}
	return nil
}

// PurgeWorker destroys environments.
type PurgeWorker struct {
	river.WorkerDefaults[purser.PurgeArgs]
	driverJob
}

// Work destroys the environment of a PURGE_INITIATED request and records
// PURGED, or on the last attempt PURGE_FAILED.
func (w *PurgeWorker) Work(ctx context.Context, job *river.Job[purser.PurgeArgs]) error {
	id := job.Args.RequestID
	r, proceed, err := w.Requests.PurgeTarget(ctx, id)
	if err != nil || !proceed {
		return err
	}
	env, d, log, err := w.begin(ctx, r, "purge", job.JobRow)
	if log == nil {
		return err
	}
	defer w.closeLog(ctx, log, id, "purge")
	if d != nil {
		dctx, span := driverSpan(ctx, "destroy", fmt.Sprintf("%T", d), id)
		err = d.Destroy(dctx, env)
		endDriverSpan(span, err)
	}
	if err != nil {
		log.WriteLine("purser", "purge failed: "+firstLine(err.Error()))
	}
	rctx, cancel := detached(ctx)
	defer cancel()
	if ferr := whileUnavailable(rctx, func() error {
		return w.Requests.FinishPurge(rctx, purser.PurgeResult{RequestID: id, Err: err, Final: final(job.JobRow)})
	}); ferr != nil {
		return ferr
	}
	if err != nil && !final(job.JobRow) {
		return err
	}
	return nil
}

// NotifyWorker delivers one notification. A failure never touches the
// transition that caused it: it is recorded and retried.
type NotifyWorker struct {
	river.WorkerDefaults[purser.NotifyArgs]
	Deliveries purser.DeliveryStore
	Sender     *notify.Sender
}

// Work sends the notification unless it was sent already.
func (w *NotifyWorker) Work(ctx context.Context, job *river.Job[purser.NotifyArgs]) error {
	d, err := w.Deliveries.FindDelivery(ctx, job.Args.NotificationID)
	if err != nil {
		return err
	}
	if d.Notification.Status != purser.DeliveryCreated {
		return nil
	}
	p := d.Prefs
	err = w.Sender.Send(ctx, notify.Recipient{Username: d.Username, Email: d.Email, SlackWebhook: p.SlackWebhook,
		WebhookURL: p.WebhookURL, WebhookSecret: p.WebhookSecret}, d.Notification)
	rctx, cancel := detached(ctx)
	defer cancel()
	last := final(job.JobRow) || notify.Permanent(err) // a refusal by policy is not retried
	if rerr := w.Deliveries.RecordDelivery(rctx, d.Notification.ID, err, last); rerr != nil {
		return rerr
	}
	if err != nil && !last {
		return err
	}
	return nil
}

// ExpireWorker expires what is past its time and sends reminders.
type ExpireWorker struct {
	river.WorkerDefaults[purser.ExpireArgs]
	Requests purser.ExpirySweeper
	Logger   *slog.Logger
}

// Work runs one sweep.
func (w *ExpireWorker) Work(ctx context.Context, job *river.Job[purser.ExpireArgs]) error {
	n, err := w.Requests.ExpireDue(purser.SystemContext(ctx))
	if n > 0 && w.Logger != nil {
		w.Logger.InfoContext(ctx, "expired requests", "count", n)
	}
	return err
}

// firstLine is an error's first line, for the job log. An error that
// quotes lines after a colon ("…; last output:") quotes what the log
// already shows just above, so the line points there.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
		if t, ok := strings.CutSuffix(s, ":"); ok {
			s = t + " above"
		}
	}
	return s
}

// RefreshWorker issues an extended environment's credentials again, for
// drivers whose credentials follow the expiry (a Kubernetes token).
type RefreshWorker struct {
	river.WorkerDefaults[purser.RefreshArgs]
	Requests purser.RefreshStore
	Drivers  map[string]purser.Driver
}

// Work refreshes the outputs of a DEPLOYED request.
func (w *RefreshWorker) Work(ctx context.Context, job *river.Job[purser.RefreshArgs]) error {
	r, err := w.Requests.FindRequestByID(purser.SystemContext(ctx), job.Args.RequestID)
	if err != nil || r.Status != purser.StatusDeployed {
		return err
	}
	env, t, err := w.Requests.Environment(ctx, r)
	if err != nil {
		return err
	}
	rf, ok := w.Drivers[t.Driver].(purser.Refresher)
	if !ok {
		return nil
	}
	out, err := rf.Refresh(ctx, env)
	if err != nil {
		return err
	}
	return w.Requests.RefreshOutputs(ctx, r.ID, out)
}

// whileUnavailable calls record until it succeeds, fails otherwise than
// with EUNAVAILABLE, or ctx ends. A driver's work is recorded through a
// short database outage rather than failed: a retried job would call the
// driver again.
func whileUnavailable(ctx context.Context, record func() error) error {
	wait := 250 * time.Millisecond
	for {
		err := record()
		if purser.ErrorCode(err) != purser.EUNAVAILABLE {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}
