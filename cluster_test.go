package purser

import (
	"strings"
	"testing"
	"time"
)

func TestClusterUpdate(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	checked := now.Add(-time.Hour)
	s := func(v string) *string { return &v }
	token := Cluster{Meta: Meta{ID: "c1", Version: 3}, Name: "c1", Kind: ClusterKubernetes, Server: "https://a", Token: "old", CA: "pem",
		Reachable: true, Version: "v1.31", CheckedAt: &checked}
	tests := []struct {
		name  string
		upd   ClusterUpdate
		field string // the field refused; "" when it is accepted
		want  func(c *Cluster) bool
	}{
		{"Description", ClusterUpdate{Description: s("staging")}, "", func(c *Cluster) bool {
			return c.Description == "staging" && c.Token == "old" && c.CA == "pem" && c.Reachable && c.CheckedAt != nil
		}},
		{"NewToken", ClusterUpdate{Token: s("new")}, "", func(c *Cluster) bool {
			return c.Token == "new" && c.Server == "https://a" && c.CA == "" && !c.Reachable && c.CheckedAt == nil && c.Version == ""
		}},
		{"NewKubeconfig", ClusterUpdate{Kubeconfig: s("apiVersion: v1")}, "", func(c *Cluster) bool {
			return c.Kubeconfig == "apiVersion: v1" && c.Token == "" && c.CA == "" && c.Server == ""
		}},
		{"KubeconfigAndToken", ClusterUpdate{Kubeconfig: s("k"), Token: s("t")}, "kubeconfig", nil},
		{"ServerWithoutToken", ClusterUpdate{Server: s("https://b")}, "token", nil},
		{"DescriptionTooLong", ClusterUpdate{Description: s(strings.Repeat("x", 501))}, "description", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := token
			after, err := before.Update(tt.upd)
			if tt.field != "" {
				if ErrorCode(err) != EINVALID || !hasField(err, tt.field) {
					t.Fatalf("error %v, want EINVALID naming %s", err, tt.field)
				}
				return
			}
			if err != nil || !tt.want(after) || before.Token != "old" {
				t.Fatalf("after %+v, error %v (before %+v)", after, err, before)
			}
			c := before.CommitUpdate(after, now)
			if len(c.Rows) != 1 || c.Rows[0] != Row(after) || !after.Updated.Equal(now) || len(c.Events) != 1 {
				t.Fatalf("change %+v", c)
			}
			ev := c.Events[0]
			if ev.Action != "cluster.update" || ev.After.(map[string]any)["credentials_changed"] != tt.upd.NewCredentials() {
				t.Fatalf("event %+v", ev)
			}
			for _, doc := range []any{ev.Before, ev.After} {
				for _, v := range doc.(map[string]any) {
					if v == "old" || v == "new" || v == "pem" {
						t.Fatalf("the audit event holds a credential: %v", doc)
					}
				}
			}
		})
	}
}
