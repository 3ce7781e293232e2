package purser

import "testing"

func TestCheckReview(t *testing.T) {
	ops := &User{Meta: Meta{ID: "ops"}, Roles: []string{RoleDevOps}, IsActive: true}
	dev := &User{Meta: Meta{ID: "dev"}, Roles: []string{RoleDev}, IsActive: true}
	gone := &User{Meta: Meta{ID: "gone"}, Roles: []string{RoleDev}}
	tests := []struct {
		name                string
		reviewer, requester *User
		approve             bool
		code                string
	}{
		{"OK", ops, dev, true, ""},
		{"ErrNotAReviewer", dev, ops, true, EFORBIDDEN},
		{"ErrOwnRequest", ops, ops, true, EFORBIDDEN},
		{"ErrRequesterDeactivated", ops, gone, true, ECONFLICT},
		{"RejectDeactivatedRequester", ops, gone, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckReview(tt.reviewer, tt.requester, tt.approve)
			if got := ErrorCode(err); got != tt.code {
				t.Fatalf("code %q (%v), want %q", got, err, tt.code)
			}
		})
	}
}

func TestCountApprovals(t *testing.T) {
	tests := []struct {
		name      string
		approvers []string
		needed    int
		want      int
		enough    bool
	}{
		{"OneOfTwo", []string{"a"}, 2, 1, false},
		{"TwoDistinct", []string{"a", "b"}, 2, 2, true},
		{"SamePersonTwice", []string{"a", "a"}, 2, 1, false},
		{"RequesterNeverCounts", []string{"a", "req"}, 2, 1, false},
		{"EmptyNeverCounts", []string{"", "a"}, 2, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ok := CountApprovals(tt.approvers, "req", tt.needed)
			if n != tt.want || ok != tt.enough {
				t.Fatalf("%d %v, want %d %v", n, ok, tt.want, tt.enough)
			}
		})
	}
}

func TestCheckPending(t *testing.T) {
	tests := []struct {
		name         string
		pending, max int
		code         string
	}{
		{"OK", 9, 10, ""},
		{"ErrAtLimit", 10, 10, ECONFLICT},
		{"DefaultWhenUnset", 9, 0, ""},
		{"ErrDefaultWhenUnset", DefaultMaxPending, 0, ECONFLICT},
		{"ErrOne", 1, 1, ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorCode(CheckPending(tt.pending, tt.max)); got != tt.code {
				t.Fatalf("code %q, want %q", got, tt.code)
			}
		})
	}
}
