package purser

import (
	"slices"
	"testing"
	"time"
)

func TestBackupsToDelete(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	var keys []string
	for i := range 5 {
		keys = append(keys, BackupKey(t0.Add(time.Duration(4-i)*24*time.Hour))) // newest first: order must not matter
	}
	keys = append(keys, "notes.txt", "purser-backup-by-hand.tar.gz")
	for _, tc := range []struct {
		name string
		keep int
		want []string
	}{
		{"KeepThree", 3, []string{BackupKey(t0), BackupKey(t0.Add(24 * time.Hour))}},
		{"KeepAll", 5, nil},
		{"KeepMore", 9, nil},
		{"KeepOne", 1, []string{BackupKey(t0), BackupKey(t0.Add(24 * time.Hour)), BackupKey(t0.Add(48 * time.Hour)), BackupKey(t0.Add(72 * time.Hour))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := BackupsToDelete(keys, tc.keep); !slices.Equal(got, tc.want) {
				t.Fatalf("BackupsToDelete(keep %d) = %v, want %v", tc.keep, got, tc.want)
			}
		})
	}
}
