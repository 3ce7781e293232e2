package api_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/getkin/kin-openapi/openapi3"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/api"
	"github.com/purserhq/purser/internal/sqldb"
)

func TestMain(m *testing.M) {
	code := m.Run()
	// Only a whole run exercises every route: -run or -skip picks a few.
	filtered := flag.Lookup("test.run").Value.String() != "" || flag.Lookup("test.skip").Value.String() != ""
	if code == 0 && len(allHits.seen) > 0 && !filtered {
		code = checkDocumented()
	}
	os.Exit(code)
}

// checkDocumented fails the run when a test saw a route or a status that
// the OpenAPI document does not list, or when a documented route was
// never exercised.
func checkDocumented() int {
	e := newEnv(&testing.T{}, openSQLite)
	doc := e.api.OpenAPI()
	bad := 0
	exercised := map[string]bool{}
	for route, statuses := range allHits.seen {
		method, path, _ := strings.Cut(route, " ")
		exercised[route] = true
		item := doc.Paths[path]
		if item == nil {
			fmt.Printf("FAIL: %s is served but not documented\n", route)
			bad++
			continue
		}
		o := map[string]*huma.Operation{"GET": item.Get, "POST": item.Post, "PATCH": item.Patch, "DELETE": item.Delete, "PUT": item.Put}[method]
		if o == nil {
			fmt.Printf("FAIL: %s: method not documented\n", route)
			bad++
			continue
		}
		responses := keys(o.Responses)
		for st := range statuses {
			if !responses[strconv.Itoa(st)] {
				fmt.Printf("FAIL: %s answered %d, which its OpenAPI operation does not document\n", route, st)
				bad++
			}
		}
	}
	for path, item := range doc.Paths {
		for method, o := range map[string]bool{"GET": item.Get != nil, "POST": item.Post != nil, "PATCH": item.Patch != nil, "DELETE": item.Delete != nil, "PUT": item.Put != nil} {
			if o && !exercised[method+" "+path] {
				fmt.Printf("FAIL: documented route %s %s is never exercised by the tests\n", method, path)
				bad++
			}
		}
	}
	if bad > 0 {
		return 1
	}
	return 0
}

func keys[V any](m map[string]V) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	t.Parallel() // the subject is not the store: SQLite alone
	e := newEnv(t, openSQLite)
	for _, path := range []string{"/api-docs", "/api-docs.json", "/api-docs.yaml"} {
		r := e.do("", "GET", path, nil)
		if r.Status != 200 {
			t.Fatalf("%s: %d", path, r.Status)
		}
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(r.Body)
		if err != nil {
			t.Fatalf("%s: load: %v", path, err)
		}
		if doc.OpenAPI != "3.1.0" {
			t.Fatalf("%s: openapi %q, want 3.1.0", path, doc.OpenAPI)
		}
		if err := doc.Validate(context.Background(), openapi3.IsOpenAPI31OrLater()); err != nil {
			t.Fatalf("%s: invalid OpenAPI document: %v", path, err)
		}
	}
	for _, path := range []string{"/healthz", "/docs", "/docs/swagger-ui.css", "/metrics"} {
		if r := e.do("", "GET", path, nil); r.Status != 200 {
			t.Fatalf("%s: %d", path, r.Status)
		}
	}
	if r := e.do("", "GET", "/docs/nope.js", nil); r.Status != 404 {
		t.Fatalf("/docs/nope.js: %d", r.Status)
	}
}

// TestAuthorization covers every endpoint for every role.
func TestAuthorization(t *testing.T) { eachStore(t, testAuthorization) }

func testAuthorization(t *testing.T, open store) {
	e := newEnv(t, open)
	victim := func() string { u, _ := e.newUser(fmt.Sprintf("victim%d", time.Now().UnixNano())); return u.ID }
	otherTok := func() string {
		tok, _, err := sqldb.NewTokenService(e.db).CreateToken(purser.SystemContext(context.Background()), e.users["devops"].ID, "x", nil)
		if err != nil {
			t.Fatal(err)
		}
		return tok.ID
	}
	n := 0
	uniq := func() string { n++; return fmt.Sprintf("new%d", n) }
	devID, adminID, devopsID := e.users["dev"].ID, e.users["admin"].ID, e.users["devops"].ID
	sys := purser.SystemContext(context.Background())
	newRole := func() string {
		r := &purser.Role{Role: uniq()}
		if _, err := sqldb.NewRoleService(e.db).CreateRole(sys, r); err != nil {
			t.Fatal(err)
		}
		return r.Role
	}
	newTemplate := func(driver string) string {
		tp := &purser.Template{Meta: purser.Meta{ID: uniq()}, Name: "x", Driver: driver}
		if err := sqldb.NewTemplateService(e.db).CreateTemplate(sys, tp); err != nil {
			t.Fatal(err)
		}
		return tp.ID
	}
	if err := sqldb.NewClusterService(e.db).CreateCluster(sys, &purser.Cluster{Name: "authz", Server: "https://127.0.0.1:1", Token: "t"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		route func() (method, path string)
		body  func() any
		want  map[string]int // role -> status; "" anonymous
	}{
		{"GetMe", fixed("GET", "/api/v1/me"), nil, m(200, 200, 200, 401)},
		{"ListUsers", fixed("GET", "/api/v1/users"), nil, m(200, 200, 403, 401)},
		{"CreateUser", fixed("POST", "/api/v1/users"), func() any { return map[string]any{"username": uniq(), "roles": []string{"dev"}} }, m(201, 403, 403, 401)},
		{"GetSelf", fixed("GET", "/v1/users/"+devID), nil, m(200, 200, 200, 401)},
		{"GetOther", fixed("GET", "/v1/users/"+adminID), nil, m(200, 200, 403, 401)},
		{"PatchOwnName", fixed("PATCH", "/api/v1/users/"+devID), func() any { return map[string]any{"name": "Dev " + uniq()} }, m(200, 403, 200, 401)},
		{"PatchRoles", fixed("PATCH", "/api/v1/users/"+devID), func() any { return map[string]any{"roles": []string{"dev"}} }, m(200, 403, 403, 401)},
		{"Deactivate", func() (string, string) { return "DELETE", "/api/v1/users/" + victim() }, nil, m(204, 403, 403, 401)},
		{"ListRoles", fixed("GET", "/api/v1/roles"), nil, m(200, 200, 200, 401)},
		{"CreateRole", fixed("POST", "/api/v1/roles"), func() any { return map[string]any{"role": uniq()} }, m(201, 403, 403, 401)},
		{"GetRole", fixed("GET", "/api/v1/roles/dev"), nil, m(200, 200, 200, 401)},
		{"PatchRole", func() (string, string) { return "PATCH", "/api/v1/roles/" + newRole() }, func() any { return map[string]any{"description": "x"} }, m(200, 403, 403, 401)},
		{"DeleteRole", func() (string, string) { return "DELETE", "/api/v1/roles/" + newRole() }, nil, m(204, 403, 403, 401)},
		{"CreateOwnToken", fixed("POST", "/api/v1/tokens"), func() any { return map[string]any{"name": "ci"} }, m(201, 201, 201, 401)},
		{"CreateTokenForOther", fixed("POST", "/api/v1/tokens"), func() any { return map[string]any{"name": "ci", "user": devopsID} }, map[string]int{"admin": 201, "devops": 201, "dev": 403, "": 401}},
		{"ListOwnTokens", fixed("GET", "/api/v1/tokens"), nil, m(200, 200, 200, 401)},
		{"ListOthersTokens", fixed("GET", "/api/v1/tokens?user="+adminID), nil, map[string]int{"admin": 200, "devops": 403, "dev": 403, "": 401}},
		{"RevokeOthersToken", func() (string, string) { return "DELETE", "/api/v1/tokens/" + otherTok() }, nil, map[string]int{"admin": 204, "devops": 204, "dev": 403, "": 401}},
		{"CreateSimTemplate", fixed("POST", "/api/v1/templates"), func() any { return map[string]any{"_id": uniq(), "name": "x", "driver": "sim"} }, m(201, 201, 403, 401)},
		{"CreateExecTemplate", fixed("POST", "/api/v1/templates"), func() any { return map[string]any{"_id": uniq(), "name": "x", "driver": "exec"} }, m(201, 403, 403, 401)},
		{"DeleteSimTemplate", func() (string, string) { return "DELETE", "/api/v1/templates/" + newTemplate("sim") }, nil, m(204, 204, 403, 401)},
		{"DeleteExecTemplate", func() (string, string) { return "DELETE", "/api/v1/templates/" + newTemplate("exec") }, nil, m(204, 403, 403, 401)},
		{"PatchCluster", fixed("PATCH", "/api/v1/clusters/authz"), func() any { return map[string]any{"description": uniq()} }, m(200, 200, 403, 401)},
		{"Healthz", fixed("GET", "/healthz"), nil, m(200, 200, 200, 200)},
		{"Readyz", fixed("GET", "/readyz"), nil, m(200, 200, 200, 200)},
	}
	for _, tt := range tests {
		for _, role := range []string{"admin", "devops", "dev", ""} {
			want := tt.want[role]
			name := role
			if name == "" {
				name = "anonymous"
			}
			t.Run(tt.name+"/"+name+"/"+strconv.Itoa(want), func(t *testing.T) {
				method, path := tt.route()
				var body any
				if tt.body != nil {
					body = tt.body()
				}
				r := e.do(role, method, path, body)
				if r.Status != want {
					t.Fatalf("%s %s as %s: %d, want %d: %s", method, path, name, r.Status, want, r.Body)
				}
				if want >= 400 && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
					t.Fatalf("error answered %q, not a problem document", r.Header.Get("Content-Type"))
				}
			})
		}
	}
}

func fixed(method, path string) func() (string, string) {
	return func() (string, string) { return method, path }
}

// m maps admin, devops, dev and anonymous to statuses.
func m(admin, devops, dev, anon int) map[string]int {
	return map[string]int{"admin": admin, "devops": devops, "dev": dev, "": anon}
}

func TestBadInput(t *testing.T) { eachStore(t, testBadInput) }

func testBadInput(t *testing.T, open store) {
	e := newEnv(t, open)
	count := func() int {
		_, n, err := sqldb.NewUserService(e.db).FindUsers(purser.SystemContext(context.Background()), purser.Query{Page: 1, MaxResults: 1})
		if err != nil {
			t.Fatal(err)
		}
		return n.Total
	}
	before := count()
	devID := e.users["dev"].ID
	big := `{"username":"big","name":"` + strings.Repeat("x", 1<<20) + `"}`
	tests := []struct {
		name, method, path string
		body               any
		headers            []string
		want               int
		wantField          string // a location the problem must name
	}{
		{"MalformedJSON", "POST", "/api/v1/users", `{"username":`, nil, 400, ""},
		{"WrongType", "POST", "/api/v1/users", `{"username":42}`, nil, 422, "body.username"},
		{"UnknownField", "POST", "/api/v1/users", `{"username":"x","isAdmin":true}`, nil, 422, "body.isAdmin"},
		{"MissingRequired", "POST", "/api/v1/users", `{"name":"x"}`, nil, 422, "body.username"},
		{"BadPattern", "POST", "/api/v1/users", `{"username":"Has Spaces"}`, nil, 422, "body.username"},
		{"BadEmail", "POST", "/api/v1/users", `{"username":"mail","email":"not-an-email"}`, nil, 422, "body.email"},
		{"UnknownRole", "POST", "/api/v1/users", `{"username":"r","roles":["dev","wizard"]}`, nil, 422, "body.roles[1]"},
		{"TooLarge", "POST", "/api/v1/users", big, nil, 413, ""},
		{"Duplicate", "POST", "/api/v1/users", `{"username":"dev-user"}`, nil, 409, "body.username"},
		{"UnknownWhereField", "GET", `/api/v1/users?where={"password":"x"}`, nil, nil, 400, "query.where"},
		{"UnknownWhereOperator", "GET", `/api/v1/users?where={"username":{"$regex":"a"}}`, nil, nil, 400, "query.where"},
		{"WhereNotJSON", "GET", `/api/v1/users?where=username=="a"`, nil, nil, 400, "query.where"},
		{"WhereWrongType", "GET", `/api/v1/users?where={"is_active":"yes"}`, nil, nil, 400, "query.where"},
		{"UnknownSortField", "GET", `/api/v1/users?sort=-password`, nil, nil, 400, "query.sort"},
		{"UnknownEmbedded", "GET", `/api/v1/users?embedded={"tokens":1}`, nil, nil, 400, "query.embedded"},
		{"MaxResultsTooBig", "GET", `/api/v1/users?max_results=201`, nil, nil, 422, "query.max_results"},
		{"PageOverflow", "GET", `/api/v1/users?page=9223372036854775807&max_results=200`, nil, nil, 422, "query.page"},
		{"PagePastMax", "GET", `/api/v1/users?page=1000001`, nil, nil, 422, "query.page"},
		{"NULInQuery", "GET", `/api/v1/users?sort=user%00name`, nil, nil, 400, "query.sort"},
		{"NULInWhere", "GET", `/api/v1/users?where={"username":"a\u0000b"}`, nil, nil, 400, "query.where"},
		{"NULInBody", "POST", "/api/v1/users", `{"username":"nul","name":"a\u0000b"}`, nil, 422, "body.name"},
		{"NULInBodyList", "POST", "/api/v1/users", `{"username":"nul","roles":["dev","\u0000"]}`, nil, 422, "body.roles[1]"},
		{"NULInPatch", "PATCH", "/api/v1/users/" + devID, `{"name":"\u0000"}`, nil, 422, "body.name"},
		{"UnknownUser", "GET", "/api/v1/users/000000000000000000000000", nil, nil, 404, ""},
		{"UnknownUserPatch", "PATCH", "/api/v1/users/000000000000000000000000", `{"name":"x"}`, nil, 404, ""},
		{"UnknownRoleGet", "GET", "/api/v1/roles/wizard", nil, nil, 404, ""},
		{"UnknownToken", "DELETE", "/api/v1/tokens/000000000000000000000000", nil, nil, 404, ""},
		{"StaleIfMatch", "PATCH", "/api/v1/users/" + devID, `{"name":"x"}`, []string{"If-Match", `"stale"`}, 412, ""},
		{"DuplicateRole", "POST", "/api/v1/roles", `{"role":"qa"}`, nil, 0, ""}, // first create, checked below
		{"DuplicateRoleAgain", "POST", "/api/v1/roles", `{"role":"qa"}`, nil, 409, "body.role"},
		{"TokenPastExpiry", "POST", "/api/v1/tokens", `{"name":"x","expires_at":"2001-01-01T00:00:00Z"}`, nil, 422, "body.expires_at"},
		{"TokenBadDate", "POST", "/api/v1/tokens", `{"name":"x","expires_at":"tomorrow"}`, nil, 422, "body.expires_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("admin", tt.method, tt.path, tt.body, tt.headers...)
			if tt.want == 0 {
				return
			}
			if r.Status != tt.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.want, r.Body)
			}
			p := r.json(t)
			if p["status"] != float64(tt.want) || p["title"] == "" {
				t.Fatalf("not a problem document: %s", r.Body)
			}
			named := strings.Contains(string(r.Body), `"location":"`+tt.wantField+`"`) ||
				strings.Contains(string(r.Body), "property "+strings.TrimPrefix(tt.wantField, "body.")+" ")
			if tt.wantField != "" && !named {
				t.Fatalf("problem does not name %s: %s", tt.wantField, r.Body)
			}
		})
	}
	if after := count(); after != before {
		t.Fatalf("bad input wrote users: %d before, %d after", before, after)
	}
	if u, _ := sqldb.NewUserService(e.db).FindUserByID(purser.SystemContext(context.Background()), devID); u.Name != "" {
		t.Fatalf("a refused patch changed the name to %q", u.Name)
	}
}

func TestAuthentication(t *testing.T) { eachStore(t, testAuthentication) }

func testAuthentication(t *testing.T, open store) {
	e := newEnv(t, open)
	sys := purser.SystemContext(context.Background())
	ts := sqldb.NewTokenService(e.db)
	_, revoked, _ := ts.CreateToken(sys, e.users["dev"].ID, "revoked", nil)
	toks, _ := ts.FindTokens(sys, purser.TokenFilter{UserID: e.users["dev"].ID})
	for _, tk := range toks {
		if tk.Name == "revoked" {
			_ = ts.RevokeToken(sys, tk.ID)
		}
	}
	soon := time.Now().Add(time.Hour)
	_, expiring, _ := ts.CreateToken(sys, e.users["dev"].ID, "expiring", &soon)
	e.db.NowFunc = func() time.Time { return soon.Add(time.Minute) }
	defer func() { e.db.NowFunc = time.Now }()
	for name, header := range map[string]string{
		"Missing": "", "NotBearer": "Basic YWRtaW46YWRtaW4=", "Invalid": "Bearer pst_invalid",
		"Revoked": "Bearer " + revoked, "Expired": "Bearer " + expiring,
	} {
		t.Run(name, func(t *testing.T) {
			var r response
			if header == "" {
				r = e.do("", "GET", "/api/v1/me", nil)
			} else {
				r = e.do("", "GET", "/api/v1/me", nil, "Authorization", header)
			}
			if r.Status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401: %s", r.Status, r.Body)
			}
		})
	}
}

func TestConditionalRequests(t *testing.T) { eachStore(t, testConditionalRequests) }

func testConditionalRequests(t *testing.T, open store) {
	e := newEnv(t, open)
	path := "/api/v1/users/" + e.users["dev"].ID
	r := e.do("admin", "GET", path, nil)
	etag := r.Header.Get("ETag")
	if etag == "" || etag != `"`+r.json(t)["_etag"].(string)+`"` {
		t.Fatalf("ETag header %q does not match _etag in %s", etag, r.Body)
	}
	if r := e.do("admin", "GET", path, nil, "If-None-Match", etag); r.Status != http.StatusNotModified {
		t.Fatalf("If-None-Match with the current ETag: %d, want 304", r.Status)
	}
	r = e.do("admin", "PATCH", path, `{"email":"dev@example.com"}`, "If-Match", etag, "Content-Type", "application/merge-patch+json")
	if r.Status != 200 || r.json(t)["email"] != "dev@example.com" || r.Header.Get("ETag") == etag {
		t.Fatalf("patch with current If-Match: %d %s", r.Status, r.Body)
	}
	if r := e.do("admin", "PATCH", path, `{"email":"late@example.com"}`, "If-Match", etag); r.Status != http.StatusPreconditionFailed {
		t.Fatalf("patch with the old ETag: %d, want 412", r.Status)
	}
	if r := e.do("admin", "DELETE", path, nil, "If-Match", etag); r.Status != http.StatusPreconditionFailed {
		t.Fatalf("delete with the old ETag: %d, want 412", r.Status)
	}
	if r := e.do("admin", "GET", path, nil, "If-None-Match", etag); r.Status != http.StatusOK {
		t.Fatalf("If-None-Match with an old ETag: %d, want 200", r.Status)
	}
}

func TestListEnvelope(t *testing.T) { eachStore(t, testListEnvelope) }

func testListEnvelope(t *testing.T, open store) {
	e := newEnv(t, open)
	for i := range 7 {
		e.newUser(fmt.Sprintf("page%d", i), "dev")
	}
	r := e.do("admin", "GET", `/v1/users?where={"roles":"dev"}&sort=username&max_results=3&page=2&embedded={"roles":1}`, nil)
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	body := r.json(t)
	meta := body["_meta"].(map[string]any)
	items := body["_items"].([]any)
	links := body["_links"].(map[string]any)
	if meta["total"] != float64(8) || meta["page"] != float64(2) || meta["max_results"] != float64(3) || len(items) != 3 {
		t.Fatalf("meta %v, %d items", meta, len(items))
	}
	first := items[0].(map[string]any)
	if first["username"] != "page2" || first["_embedded"].(map[string]any)["roles"] == nil {
		t.Fatalf("first item of page 2: %v", first)
	}
	for _, rel := range []string{"self", "parent", "next", "prev", "last"} {
		if links[rel] == nil {
			t.Fatalf("no %s link: %v", rel, links)
		}
	}
	// next carries the cursor of page 3; following it reads page 3, with
	// no number and no total (not asked for), and a link back to the first.
	next := links["next"].(map[string]any)["href"].(string)
	if !strings.Contains(next, "after=") || strings.Contains(next, "page=") {
		t.Fatalf("next link %v", next)
	}
	r = e.do("admin", "GET", next, nil)
	if r.Status != 200 {
		t.Fatalf("%s: %d %s", next, r.Status, r.Body)
	}
	body = r.json(t)
	meta, items, links = body["_meta"].(map[string]any), body["_items"].([]any), body["_links"].(map[string]any)
	if meta["page"] != nil || meta["total"] != nil || len(items) != 2 || items[0].(map[string]any)["username"] != "page5" {
		t.Fatalf("page after page 2: meta %v, %d items, first %v", meta, len(items), items[0])
	}
	if links["next"] != nil || links["first"] == nil {
		t.Fatalf("links of the last page: %v", links)
	}
	r = e.do("admin", "GET", next+"&total=true", nil)
	if r.Status != 200 || r.json(t)["_meta"].(map[string]any)["total"] != float64(8) {
		t.Fatalf("total=true on a cursor page: %d %s", r.Status, r.Body)
	}
	r = e.do("admin", "GET", `/v1/users?total=false`, nil)
	if r.Status != 200 || r.json(t)["_meta"].(map[string]any)["total"] != nil {
		t.Fatalf("total=false: %d %s", r.Status, r.Body)
	}
	r = e.do("admin", "GET", `/v1/users?after=bogus`, nil)
	if r.Status != 400 || !strings.Contains(string(r.Body), "after") {
		t.Fatalf("a bogus cursor: %d %s", r.Status, r.Body)
	}
}

func TestSeedSetUpCalls(t *testing.T) { eachStore(t, testSeedSetUpCalls) }

func testSeedSetUpCalls(t *testing.T, open store) {
	e := newEnv(t, open)
	for _, role := range []string{"admin", "dev", "devops"} {
		r := e.do("admin", "POST", "/v1/roles", map[string]string{"role": role, "description": role})
		if r.Status != 200 {
			t.Fatalf("POST /v1/roles role=%s: %d %s", role, r.Status, r.Body)
		}
	}
	for _, u := range []struct{ name, role string }{{"aaa", "admin"}, {"bbb", "dev"}, {"jjj", "devops"}} {
		r := e.do("admin", "POST", "/v1/users", map[string]any{"name": strings.ToUpper(u.name), "email": u.name + "@xyz.com", "username": u.name, "roles": []string{u.role}})
		if r.Status != 201 || r.Header.Get("Location") == "" {
			t.Fatalf("POST /v1/users %s: %d %s", u.name, r.Status, r.Body)
		}
	}
}

func TestReadyzNamesFailingCheck(t *testing.T) { eachStore(t, testReadyzNamesFailingCheck) }

func testReadyzNamesFailingCheck(t *testing.T, open store) {
	e := newEnv(t, open)
	e.api.Checks = append(e.api.Checks, api.Check{Name: "queue", Func: func(context.Context) error { return errors.New("the job queue is stopped") }})
	r := e.do("", "GET", "/readyz", nil)
	if r.Status != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", r.Status)
	}
	body := r.json(t)
	if body["status"] != "DOWN" || !strings.Contains(string(r.Body), `"name":"queue","status":"DOWN","error":"the job queue is stopped"`) ||
		!strings.Contains(string(r.Body), `"name":"database","status":"UP"`) {
		t.Fatalf("readyz body: %s", r.Body)
	}
}
