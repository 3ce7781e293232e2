package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/sqldb"
)

// TestPasswords: a user sets their own web password, an admin anyone's;
// a short one is refused by field; a one-time link is an admin's to make
// and signs the user in once.
func TestPasswords(t *testing.T) { eachStore(t, testPasswords) }

func testPasswords(t *testing.T, open store) {
	e := newEnv(t, open)
	const pw = "a long enough password"
	dev, ops := e.users["dev"], e.users["devops"]
	e.want0(e.do("dev", http.MethodPut, "/api/v1/users/"+dev.ID+"/password", map[string]any{"password": pw}), http.StatusNoContent)
	e.want0(e.do("dev", http.MethodPut, "/api/v1/users/"+ops.ID+"/password", map[string]any{"password": pw}), http.StatusForbidden)
	e.want0(e.do("", http.MethodPut, "/api/v1/users/"+dev.ID+"/password", map[string]any{"password": pw}), http.StatusUnauthorized)
	e.want0(e.do("admin", http.MethodPut, "/api/v1/users/"+ops.ID+"/password", map[string]any{"password": pw}), http.StatusNoContent)
	e.want0(e.do("admin", http.MethodPut, "/api/v1/users/nobody/password", map[string]any{"password": pw}), http.StatusNotFound)
	body := e.want0(e.do("dev", http.MethodPut, "/api/v1/users/"+dev.ID+"/password", map[string]any{"password": "short"}), http.StatusUnprocessableEntity)
	if !strings.Contains(string(body), "password") {
		t.Fatalf("422 does not name the field: %s", body)
	}
	e.want0(e.do("dev", http.MethodPut, "/api/v1/users/"+dev.ID+"/password", strings.Repeat("x", 2<<20)), http.StatusRequestEntityTooLarge)
	ss := sqldb.NewSessionService(e.db)
	if _, _, err := ss.SignIn(context.Background(), "dev-user", pw); err != nil {
		t.Fatalf("sign in with the password set through the API: %v", err)
	}

	e.want0(e.do("devops", http.MethodPost, "/api/v1/users/"+dev.ID+"/signInLinks", nil), http.StatusForbidden)
	e.want0(e.do("admin", http.MethodPost, "/api/v1/users/nobody/signInLinks", nil), http.StatusNotFound)
	l := e.want(e.do("admin", http.MethodPost, "/api/v1/users/devops-user/signInLinks", nil), http.StatusCreated)
	path, _ := l["path"].(string)
	if !strings.HasPrefix(path, "/signin/link/psl_") || l["user"] != ops.ID {
		t.Fatalf("link: %v", l)
	}
	if _, _, err := ss.SignInWithLink(context.Background(), strings.TrimPrefix(path, "/signin/link/"), pw+"!"); err != nil {
		t.Fatalf("the link does not sign in: %v", err)
	}
	e.want0(e.do("admin", http.MethodDelete, "/api/v1/users/"+ops.ID, nil), http.StatusNoContent)
	e.want0(e.do("admin", http.MethodPost, "/api/v1/users/"+ops.ID+"/signInLinks", nil), http.StatusConflict)
}
