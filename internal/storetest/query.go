package storetest

import (
	"fmt"
	"testing"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/sqldb"
)

func testQuery(t *testing.T, open Opener) {
	db := open(t)
	ctx, _ := admin(t, db)
	us := sqldb.NewUserService(db)
	for i := range 30 {
		roles := []string{"dev"}
		if i%3 == 0 {
			roles = []string{"devops"}
		}
		u := &purser.User{Username: fmt.Sprintf("u%02d", i), Name: fmt.Sprintf("User %02d", 29-i), Roles: roles, IsActive: i%5 != 0}
		if err := us.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, where, sort string
		page, max         int
		wantTotal         int
		wantFirst         string
	}{
		{"Equality", `{"username":"u07"}`, "", 1, 25, 1, "u07"},
		{"Bool", `{"is_active":false}`, "username", 1, 25, 6, "u00"},
		{"In", `{"username":{"$in":["u01","u02","nobody"]}}`, "-username", 1, 25, 2, "u02"},
		{"Range", `{"username":{"$gte":"u10","$lt":"u20"}}`, "username", 1, 25, 10, "u10"},
		{"Ne", `{"username":{"$ne":"root"}}`, "name", 1, 25, 30, "u29"},
		{"RoleMembership", `{"roles":"devops"}`, "username", 1, 25, 10, "u00"},
		{"SecondPage", `{"roles":"dev"}`, "-username", 2, 5, 20, "u22"},
		{"CreatedRange", `{"_created":{"$gt":"2000-01-01T00:00:00Z"}}`, "username", 1, 25, 31, "root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := purser.ParseQuery(tt.where, tt.sort, tt.page, tt.max, purser.UserFields)
			if err != nil {
				t.Fatal(err)
			}
			got, info, err := us.FindUsers(ctx, q)
			total := info.Total
			if err != nil {
				t.Fatal(err)
			}
			if total != tt.wantTotal || len(got) == 0 || got[0].Username != tt.wantFirst {
				first := ""
				if len(got) > 0 {
					first = got[0].Username
				}
				t.Fatalf("total %d first %q, want %d %q", total, first, tt.wantTotal, tt.wantFirst)
			}
		})
	}
}
