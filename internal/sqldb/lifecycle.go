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
		var fit purser.QuotaFit
		if owner.IsActive {
			if fit, err = s.fit(ctx, tx, owner, r); err != nil {
				return err
			}
		}
		c, err := r.Analyse(s.db.now(), t, owner, fit)
		if err != nil {
			return err
		}
		return s.db.commit(ctx, tx, c)
	})
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
	return purser.Environment{RequestID: r.ID, Owner: username, Template: t.ID, ResourceType: t.ResourceType, Params: params, Secrets: secrets,
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
		var c purser.Change
		if c, proceed, err = r.StartProvision(s.db.now()); err != nil {
			return err
		}
		return s.db.commit(ctx, tx, c)
	})
	return r, proceed, err
}

// FinishProvision records the provision job's result (see
// purser.Request.FinishProvision).
func (s *RequestService) FinishProvision(ctx context.Context, res purser.ProvisionResult) (superseded bool, err error) {
	ctx = purser.SystemContext(ctx)
	err = s.db.WithTx(ctx, func(tx Tx) error {
		r, err := s.find(ctx, tx, res.RequestID)
		if err != nil {
			return err
		}
		var c purser.Change
		if c, superseded, err = r.FinishProvision(s.db.now(), res); err != nil {
			return err
		}
		return s.db.commit(ctx, tx, c)
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

// FinishPurge records the purge job's result (see
// purser.Request.FinishPurge).
func (s *RequestService) FinishPurge(ctx context.Context, res purser.PurgeResult) error {
	ctx = purser.SystemContext(ctx)
	return s.db.WithTx(ctx, func(tx Tx) error {
		r, err := s.find(ctx, tx, res.RequestID)
		if err != nil {
			return err
		}
		c, err := r.FinishPurge(s.db.now(), res)
		if err != nil {
			return err
		}
		return s.db.commit(ctx, tx, c)
	})
}

// ExpireDue expires every DEPLOYED request past its expires_by (and starts
// its purge), and sends the reminders now due. It returns how many
// requests expired.
func (s *RequestService) ExpireDue(ctx context.Context) (int, error) {
	if err := purser.Authorize(ctx, purser.ActionExpiryRun, ""); err != nil {
		return 0, err // workers run it as the system; people must be admins
	}
	ctx = purser.SystemContext(ctx)
	now := s.db.now()
	horizon := now.Add(purser.Reminders[0])
	ids, err := s.ids(ctx, "SELECT id FROM requests WHERE status = ? AND expires_by <= ? ORDER BY expires_by",
		purser.StatusDeployed, micros(horizon))
	if err != nil {
		return 0, fmt.Errorf("due requests: %w", err)
	}
	expired := 0
	for _, id := range ids {
		err := s.db.WithTx(ctx, func(tx Tx) error {
			r, err := s.find(ctx, tx, id)
			if err != nil {
				return err
			}
			c, done, err := r.Sweep(now)
			if err != nil {
				return err
			}
			if err := s.db.commit(ctx, tx, c); err != nil {
				return err
			}
			if done {
				expired++
			}
			return nil
		})
		if err != nil {
			return expired, fmt.Errorf("expire %s: %w", id, err)
		}
	}
	return expired, s.warnLapsing(ctx, now)
}

// ids runs a query of ids on the read side.
func (s *RequestService) ids(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := s.db.Read.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// warnLapsing tells the holders of temporary quotas that lapse within
// purser.QuotaLapseWarning, once per quota.
func (s *RequestService) warnLapsing(ctx context.Context, now time.Time) error {
	ids, err := s.ids(ctx, "SELECT id FROM quotas WHERE quota_type = ? AND lapse_notified = ? AND valid_until > ? AND valid_until <= ?",
		purser.QuotaTemporary, false, micros(now), micros(now.Add(purser.QuotaLapseWarning)))
	if err != nil {
		return fmt.Errorf("lapsing quotas: %w", err)
	}
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
				if holders, err = s.db.holders(ctx, tx, d.Role); err != nil {
					return err
				}
			}
			return s.db.enqueue(ctx, tx, d.LapseWarning(holders)...)
		})
		if err != nil {
			return fmt.Errorf("warn of lapsing quota %s: %w", id, err)
		}
	}
	return nil
}

// holders returns the active users with the role.
func (db *DB) holders(ctx context.Context, q Querier, role string) ([]string, error) {
	rows, err := q.Query(ctx, "SELECT u.id FROM users u JOIN user_roles ur ON ur.user_id = u.id WHERE ur.role = ? AND u.is_active = ?", role, true)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var uid string
		if err := rows.Scan(&uid); err != nil {
			return nil, err
		}
		out = append(out, uid)
	}
	return out, rows.Err()
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
