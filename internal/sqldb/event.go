package sqldb

import (
	"context"
	"encoding/json"

	"github.com/purserhq/purser"
)

// EventService implements purser.EventService.
type EventService struct{ db *DB }

// NewEventService returns the audit log reader.
func NewEventService(db *DB) *EventService { return &EventService{db: db} }

var eventColumns = columns{plain: map[string]string{
	"_id": "id", "_created": "created_at", "actor": "actor", "action": "action",
	"target_type": "target_type", "target_id": "target_id",
},
	fields: purser.EventFields,
}

type eventRow struct {
	purser.Event
	created       int64
	before, after *string
}

func scanEvent(r Row) (*eventRow, error) {
	var e eventRow
	err := r.Scan(&e.ID, &e.Actor, &e.ActingFor, &e.Action, &e.TargetType, &e.TargetID, &e.before, &e.after, &e.created)
	return &e, err
}

func (e *eventRow) domain() *purser.Event {
	out := e.Event
	out.Created = fromMicros(e.created)
	if e.before != nil {
		_ = json.Unmarshal([]byte(*e.before), &out.Before)
	}
	if e.after != nil {
		_ = json.Unmarshal([]byte(*e.after), &out.After)
	}
	return &out
}

// FindEvents lists events: admins and devops see all, others what they did
// and what happened to their own requests.
func (s *EventService) FindEvents(ctx context.Context, q purser.Query) ([]*purser.Event, purser.PageInfo, error) {
	where, err := eventColumns.where(q.Where)
	if err != nil {
		return nil, purser.PageInfo{}, err
	}
	scope, err := purser.ActorFromContext(ctx).ListScope(purser.ActionEventsRead)
	if err != nil {
		return nil, purser.PageInfo{}, err
	}
	if !scope.All {
		where = append(where, sqExpr("(actor = ? OR (target_type = 'provisionRequest' AND target_id IN (SELECT id FROM requests WHERE requested_by = ?)))", scope.User, scope.User))
	}
	return list(ctx, s.db, listSpec[eventRow, purser.Event]{
		from: "events", selectCols: "id, actor, acting_for, action, target_type, target_id, before, after, created_at",
		where: where, orderBy: eventColumns.orderBy(q.Sort, "id"), query: q, scan: scanEvent, domain: (*eventRow).domain,
	})
}
