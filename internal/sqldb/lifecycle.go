package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/purserhq/purser"
)

// The transitions workers make. Each runs as the system actor in one
// transaction, and is idempotent: a job that runs again after a crash
// finds the request already moved and does nothing twice.

// Analyse estimates a new request and approves it when its template's
// policy is auto and it fits both the template's limits and the quota;
// otherwise it tells the reviewers it waits for them.
func (s *RequestService) Analyse(ctx context.Context, id string) error {
	ctx = purser.SystemContext(ctx)
	return s.db.WithTx(ctx, func(tx Tx) error {
		r, err := s.find(ctx, tx, id)
		if err != nil || r.Status != purser.StatusRequested {
			return err
		}
		t, err := s.template(ctx, tx, r)
		if err != nil {
			return err
		}
		owner, err := NewUserService(s.db).findUser(ctx, tx, "u.id = ?", r.RequestedBy)
		if err != nil {
			return err
		}
		fit := "It fits the requester's quota."
		if !owner.IsActive {
			fit = "The requester's account is deactivated: it cannot be approved."
		} else if err := s.reserve(ctx, tx, r); err != nil {
			if purser.ErrorCode(err) != purser.ECONFLICT {
				return err
			}
			fit = "It does NOT fit the requester's quota: " + purser.ErrorMessage(err)
		} else if t.Approval.Mode == purser.ApprovalAuto && within(r.Footprint, t.Approval.AutoMax) {
			r.ReviewComment = "approved automatically: within template " + t.ID + "'s limits and the quota"
			return s.apply(ctx, tx, r, purser.ActApprove, "")
		}
		msgs, err := s.db.toReviewers(ctx, tx, r.RequestedBy, msg(r, "", purser.EventSubmitted, "Provision request to review",
			fmt.Sprintf("Provision request %s asks for %s (%g cores, %g GiB, %.2f/h) until %s. %s",
				r.ID, r.ResourceTemplate, r.Footprint.Cores, r.Footprint.Memory, r.Footprint.CostPerHour, r.ExpiresBy.Format("2006-01-02 15:04 MST"), fit)))
		if err != nil {
			return err
		}
		return s.db.enqueue(ctx, tx, msgs...)
	})
}

func within(f, lim purser.Footprint) bool {
	return f.Cores <= lim.Cores && f.Memory <= lim.Memory && f.CostPerHour <= lim.CostPerHour
}

// Environment returns what a driver needs to act on a request's
// environment, with the template revision the request pinned.
func (s *RequestService) Environment(ctx context.Context, r *purser.Request) (purser.Environment, *purser.Template, error) {
	t, err := s.template(ctx, s.db.Read, r)
	if err != nil {
		return purser.Environment{}, nil, err
	}
	var username string
	if err := s.db.Read.QueryRow(ctx, "SELECT username FROM users WHERE id = ?", r.RequestedBy).Scan(&username); err != nil {
		return purser.Environment{}, nil, s.db.translate(err, "user")
	}
	// The driver alone gets the secret parameters' values: unsealed into
	// a copy of the parameters, and listed for redaction from its logs.
	var sealed *string
	if err := s.db.Read.QueryRow(ctx, "SELECT secret_parameters FROM requests WHERE id = ?", r.ID).Scan(&sealed); err != nil {
		return purser.Environment{}, nil, s.db.translate(err, "provision request "+r.ID)
	}
	params := make(map[string]any, len(r.ResourceParameters))
	for k, v := range r.ResourceParameters {
		params[k] = v
	}
	if sealed != nil && *sealed != "" {
		plain, err := s.db.Sealer.Open(*sealed)
		if err != nil {
			return purser.Environment{}, nil, fmt.Errorf("open secret parameters of %s: %w", r.ID, err)
		}
		var secret map[string]any
		if err := json.Unmarshal([]byte(plain), &secret); err != nil {
			return purser.Environment{}, nil, fmt.Errorf("secret parameters of %s: %w", r.ID, err)
		}
		for k, v := range secret {
			params[k] = v
		}
	}
	var secrets []string
	for _, p := range t.Params {
		if v, ok := params[p.Name]; ok && p.Secret && v != purser.SecretMask {
			secrets = append(secrets, fmt.Sprint(v))
		}
	}
	return purser.Environment{RequestID: r.ID, Owner: username, Template: t.ID, Params: params, Secrets: secrets,
		Footprint: r.Footprint, ExpiresBy: r.ExpiresBy, Config: t.Config}, t, nil
}

// StartProvision moves an APPROVED request to INITIATED and returns it.
// proceed is false when the request is no longer to be provisioned (it
// was purged meanwhile, or is done).
func (s *RequestService) StartProvision(ctx context.Context, id string) (r *purser.Request, proceed bool, err error) {
	ctx = purser.SystemContext(ctx)
	err = s.db.WithTx(ctx, func(tx Tx) error {
		if r, err = s.find(ctx, tx, id); err != nil {
			return err
		}
		switch r.Status {
		case purser.StatusApproved:
			proceed = true
			return s.apply(ctx, tx, r, purser.ActStart, "")
		case purser.StatusInitiated: // resumed after a crash, or retried
			proceed = true
		}
		return nil
	})
	return r, proceed, err
}

// FinishProvision records the provision job's result. With an error that
// is not final it only notes it (the job will be retried); a final error
// fails the request and tells its owner and DevOps. superseded is true
// when the request was purged while the driver worked: what the driver
// made must then be destroyed by the caller, since the purge may have run
// before it existed.
func (s *RequestService) FinishProvision(ctx context.Context, id string, outputs map[string]string, howTo string, provErr error, final bool) (superseded bool, err error) {
	ctx = purser.SystemContext(ctx)
	err = s.db.WithTx(ctx, func(tx Tx) error {
		r, err := s.find(ctx, tx, id)
		if err != nil {
			return err
		}
		if r.Status != purser.StatusInitiated {
			superseded = true
			return nil
		}
		if provErr != nil {
			r.LastError = truncate(provErr.Error(), 2000)
			if !final {
				return s.save(ctx, tx, r)
			}
			if err := s.apply(ctx, tx, r, purser.ActFail, ""); err != nil {
				return err
			}
			m := msg(r, r.RequestedBy, purser.EventFailed, "Provisioning failed",
				fmt.Sprintf("Provisioning %s (%s) failed after every attempt: %s", r.ID, r.ResourceTemplate, r.LastError))
			msgs, err := s.db.toReviewers(ctx, tx, r.RequestedBy, m)
			if err != nil {
				return err
			}
			return s.db.enqueue(ctx, tx, append(msgs, m)...)
		}
		plain, _ := json.Marshal(outputs)
		if _, err := tx.Exec(ctx, "UPDATE requests SET outputs = ? WHERE id = ?", s.db.Sealer.Seal(string(plain)), id); err != nil {
			return err
		}
		r.LastError = ""
		if err := s.apply(ctx, tx, r, purser.ActDeploy, ""); err != nil {
			return err
		}
		return s.db.enqueue(ctx, tx, msg(r, r.RequestedBy, purser.EventDeployed, "Environment ready",
			fmt.Sprintf("Your environment %s (%s) is DEPLOYED until %s. %s", r.ID, r.ResourceTemplate,
				r.ExpiresBy.Format("2006-01-02 15:04 MST"), howTo)))
	})
	return superseded, err
}

// PurgeTarget returns the request a purge job acts on; proceed is false
// unless it is PURGE_INITIATED.
func (s *RequestService) PurgeTarget(ctx context.Context, id string) (*purser.Request, bool, error) {
	r, err := s.find(ctx, s.db.Read, id)
	if err != nil {
		return nil, false, err
	}
	return r, r.Status == purser.StatusPurgeInitiated, nil
}

// FinishPurge records the purge job's result.
func (s *RequestService) FinishPurge(ctx context.Context, id string, purgeErr error, final bool) error {
	ctx = purser.SystemContext(ctx)
	return s.db.WithTx(ctx, func(tx Tx) error {
		r, err := s.find(ctx, tx, id)
		if err != nil || r.Status != purser.StatusPurgeInitiated {
			return err
		}
		if purgeErr != nil {
			r.LastError = truncate(purgeErr.Error(), 2000)
			if !final {
				return s.save(ctx, tx, r)
			}
			if err := s.apply(ctx, tx, r, purser.ActPurgeFailed, ""); err != nil {
				return err
			}
			msgs, err := s.db.toReviewers(ctx, tx, "", msg(r, "", purser.EventPurgeFailed, "Purge failed",
				fmt.Sprintf("Purging %s (%s) failed after every attempt; something may be left behind: %s", r.ID, r.ResourceTemplate, r.LastError)))
			if err != nil {
				return err
			}
			return s.db.enqueue(ctx, tx, msgs...)
		}
		r.LastError = ""
		if _, err := tx.Exec(ctx, "UPDATE requests SET outputs = NULL WHERE id = ?", id); err != nil {
			return err
		}
		if err := s.apply(ctx, tx, r, purser.ActPurgeDone, ""); err != nil {
			return err
		}
		return s.db.enqueue(ctx, tx, msg(r, r.RequestedBy, purser.EventPurged, "Environment purged",
			fmt.Sprintf("Your environment %s (%s) has been purged.", r.ID, r.ResourceTemplate)))
	})
}

// ExpireDue expires every DEPLOYED request past its expires_by (and starts
// its purge), and sends the reminders now due. It returns how many
// requests expired.
func (s *RequestService) ExpireDue(ctx context.Context) (int, error) {
	if err := purser.Authorize(ctx, purser.ActionUserWrite, ""); err != nil {
		return 0, err // workers run it as the system; people must be admins
	}
	ctx = purser.SystemContext(ctx)
	now := s.db.now()
	horizon := now.Add(purser.Reminders[0])
	rows, err := s.db.Read.Query(ctx, "SELECT id FROM requests WHERE status = ? AND expires_by <= ? ORDER BY expires_by",
		purser.StatusDeployed, micros(horizon))
	if err != nil {
		return 0, fmt.Errorf("due requests: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	expired := 0
	for _, id := range ids {
		err := s.db.WithTx(ctx, func(tx Tx) error {
			r, err := s.find(ctx, tx, id)
			if err != nil || r.Status != purser.StatusDeployed {
				return err
			}
			if !now.Before(r.ExpiresBy) {
				expired++
				return s.expire(ctx, tx, r)
			}
			return s.remind(ctx, tx, r, now)
		})
		if err != nil {
			return expired, fmt.Errorf("expire %s: %w", id, err)
		}
	}
	return expired, s.warnLapsing(ctx, now)
}

// QuotaLapseWarning is how long before a temporary quota lapses its
// holders are told.
const QuotaLapseWarning = 24 * time.Hour

// warnLapsing tells the holders of temporary quotas that lapse within
// QuotaLapseWarning, once per quota.
func (s *RequestService) warnLapsing(ctx context.Context, now time.Time) error {
	rows, err := s.db.Read.Query(ctx, "SELECT id FROM quotas WHERE quota_type = ? AND lapse_notified = ? AND valid_until > ? AND valid_until <= ?",
		purser.QuotaTemporary, false, micros(now), micros(now.Add(QuotaLapseWarning)))
	if err != nil {
		return fmt.Errorf("lapsing quotas: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		err := s.db.WithTx(ctx, func(tx Tx) error {
			n, err := tx.Exec(ctx, "UPDATE quotas SET lapse_notified = ? WHERE id = ? AND lapse_notified = ?", true, id, false)
			if err != nil || n == 0 {
				return err
			}
			q, err := scanQuota(tx.QueryRow(ctx, "SELECT "+quotaSelect+" FROM quotas WHERE id = ?", id))
			if err != nil {
				return err
			}
			d := q.domain()
			holders := []string{d.User}
			if d.Role != "" {
				r, err := tx.Query(ctx, "SELECT u.id FROM users u JOIN user_roles ur ON ur.user_id = u.id WHERE ur.role = ? AND u.is_active = ?", d.Role, true)
				if err != nil {
					return err
				}
				holders = holders[:0]
				for r.Next() {
					var uid string
					if err := r.Scan(&uid); err != nil {
						r.Close()
						return err
					}
					holders = append(holders, uid)
				}
				r.Close()
			}
			var msgs []purser.Message
			for _, uid := range holders {
				msgs = append(msgs, purser.Message{User: uid, Event: purser.EventQuotaLapsing, Title: "Temporary quota lapsing",
					Description: fmt.Sprintf("A temporary quota grant (%s) lapses at %s; environments beyond your permanent quota cannot be approved after that.",
						d.ID, d.ValidUntil.Format("2006-01-02 15:04 MST")), Link: "/api/v1/quotas/" + d.ID})
			}
			return s.db.enqueue(ctx, tx, msgs...)
		})
		if err != nil {
			return fmt.Errorf("warn of lapsing quota %s: %w", id, err)
		}
	}
	return nil
}

func (s *RequestService) expire(ctx context.Context, tx Tx, r *purser.Request) error {
	if err := s.apply(ctx, tx, r, purser.ActExpire, ""); err != nil {
		return err
	}
	if err := s.db.enqueue(ctx, tx, msg(r, r.RequestedBy, purser.EventExpired, "Environment expired",
		fmt.Sprintf("Your environment %s (%s) expired at %s and is being purged.", r.ID, r.ResourceTemplate, r.ExpiresBy.Format("2006-01-02 15:04 MST")))); err != nil {
		return err
	}
	return s.apply(ctx, tx, r, purser.ActPurge, "")
}

// remind sends the reminders whose time has come, once each, skipping
// those that lie before the environment was created (beyond its TTL).
func (s *RequestService) remind(ctx context.Context, tx Tx, r *purser.Request, now time.Time) error {
	sent := r.RemindersSent
	var due []time.Duration
	for i, before := range purser.Reminders {
		at := r.ExpiresBy.Add(-before)
		if sent&(1<<i) != 0 || now.Before(at) {
			continue
		}
		sent |= 1 << i
		if at.Before(r.Created) {
			continue // the TTL was shorter than this reminder
		}
		due = append(due, before)
	}
	if sent == r.RemindersSent {
		return nil
	}
	r.RemindersSent = sent
	if err := s.save(ctx, tx, r); err != nil {
		return err
	}
	if len(due) == 0 {
		return nil
	}
	left := r.ExpiresBy.Sub(now).Round(time.Minute)
	return s.db.enqueue(ctx, tx, msg(r, r.RequestedBy, purser.EventExpiring, "Environment expiring in "+left.String(),
		fmt.Sprintf("Your environment %s (%s) expires at %s (in %s). Ask for an extension if you need it longer.",
			r.ID, r.ResourceTemplate, r.ExpiresBy.Format("2006-01-02 15:04 MST"), left)))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// RefreshOutputs stores a DEPLOYED request's outputs again (after its
// credentials were issued anew).
func (s *RequestService) RefreshOutputs(ctx context.Context, id string, outputs map[string]string) error {
	ctx = purser.SystemContext(ctx)
	plain, _ := json.Marshal(outputs)
	return s.db.WithTx(ctx, func(tx Tx) error {
		n, err := tx.Exec(ctx, "UPDATE requests SET outputs = ? WHERE id = ? AND status = ?", s.db.Sealer.Seal(string(plain)), id, purser.StatusDeployed)
		if err != nil || n == 0 {
			return err
		}
		return s.db.audit(ctx, tx, "request.refresh", "provisionRequest", id, nil, map[string]any{"outputs": "issued again"}, "")
	})
}
