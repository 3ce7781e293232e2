package storetest

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

// testSecretParameters: a secret: true parameter is sealed at rest and
// shown as purser.SecretMask to everyone (requester, devops, admins), in
// answers, events and notifications; only the driver's environment has
// its value, and lists it for redaction. Requests stored in plaintext
// before are sealed by SealSecretParameters.
func testSecretParameters(t *testing.T, open Opener) {
	db := Equip(t, open(t))
	ctx := context.Background()
	adminCtx, _ := admin(t, db)
	devCtx, _ := as(t, db, "dev", purser.RoleDev)
	opsCtx, _ := as(t, db, "ops", purser.RoleDevOps)
	tpl := &purser.Template{Meta: purser.Meta{ID: "db"}, Name: "DB", Driver: "sim", IsActive: true,
		Params: []purser.Param{{Name: "user", Type: purser.ParamString}, {Name: "password", Type: purser.ParamString, Secret: true}}}
	if err := sqldb.NewTemplateService(db).CreateTemplate(adminCtx, tpl); err != nil {
		t.Fatal(err)
	}
	reqs := sqldb.NewRequestService(db)
	r, err := reqs.CreateRequest(devCtx, purser.RequestInput{ResourceTemplate: "db",
		ResourceParameters: map[string]any{"user": "app", "password": "hunter2"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.ResourceParameters["password"] != purser.SecretMask || r.ResourceParameters["user"] != "app" {
		t.Fatalf("create answers %v", r.ResourceParameters)
	}
	if err := reqs.Analyse(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := reqs.ActOnRequest(opsCtx, r.ID, purser.ActApprove, purser.Review{}); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]context.Context{"requester": devCtx, "devops": opsCtx, "admin": adminCtx} {
		got, err := reqs.FindRequestByID(c, r.ID)
		if err != nil || got.ResourceParameters["password"] != purser.SecretMask {
			t.Fatalf("%s sees %v (%v)", name, got.ResourceParameters, err)
		}
	}
	noPlaintext(t, db, "hunter2")

	env, _, err := reqs.Environment(ctx, r)
	if err != nil || env.Params["password"] != "hunter2" || !slices.Contains(env.Secrets, "hunter2") {
		t.Fatalf("the driver gets %v, secrets %v (%v)", env.Params, env.Secrets, err)
	}

	// A request stored before secrets were sealed.
	old, err := reqs.CreateRequest(devCtx, purser.RequestInput{ResourceTemplate: "db", ResourceParameters: map[string]any{"user": "app"}})
	if err != nil {
		t.Fatal(err)
	}
	err = db.WithTx(ctx, func(tx sqldb.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE requests SET resource_parameters = '{"user":"app","password":"legacy-pw"}', secret_parameters = NULL WHERE id = ?`, old.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := db.SealSecretParameters(ctx); err != nil || n != 1 {
		t.Fatalf("sealed %d (%v), want 1", n, err)
	}
	if n, err := db.SealSecretParameters(ctx); err != nil || n != 0 {
		t.Fatalf("sealed %d again (%v)", n, err)
	}
	noPlaintext(t, db, "legacy-pw")
	got, _ := reqs.FindRequestByID(adminCtx, old.ID)
	if env, _, err := reqs.Environment(ctx, got); err != nil || env.Params["password"] != "legacy-pw" || got.ResourceParameters["password"] != purser.SecretMask {
		t.Fatalf("after sealing: shown %v, driver gets %v (%v)", got.ResourceParameters, env.Params, err)
	}
}

// noPlaintext fails when a secret is stored in clear in requests, events
// or notifications.
func noPlaintext(t *testing.T, db *sqldb.DB, secret string) {
	t.Helper()
	ctx := context.Background()
	for _, q := range []string{
		"SELECT resource_parameters || ' ' || COALESCE(secret_parameters, '') FROM requests",
		"SELECT COALESCE(before, '') || ' ' || COALESCE(after, '') FROM events",
		"SELECT title || ' ' || description FROM notifications",
	} {
		rows, err := db.Read.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(s, secret) {
				rows.Close()
				t.Fatalf("%q stored in clear: %s", secret, q)
			}
		}
		rows.Close()
	}
	events, _, err := sqldb.NewEventService(db).FindEvents(purser.SystemContext(ctx), purser.Query{Page: 1, MaxResults: purser.MaxMaxResults})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(events); strings.Contains(string(b), secret) {
		t.Fatalf("events show %q: %s", secret, b)
	}
}
