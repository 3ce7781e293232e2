package logging

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestRiverKeepsWarningsAtInfo(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		level slog.Level
		want  []string
	}{
		{"Info", slog.LevelInfo, []string{"job failed"}},
		{"Debug", slog.LevelDebug, []string{"River client started", "job failed"}},
		{"Error", slog.LevelError, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			base := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tt.level}))
			l := River(base.With("component", "queue"))
			l.Info("River client started")
			l.Warn("job failed", "attempt", 1)
			base.Info("purser started") // Purser's own lines stay at the server's level
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				if strings.Contains(line, "component=queue") {
					got = append(got, strings.Trim(strings.SplitN(strings.SplitN(line, "msg=", 2)[1], " component", 2)[0], `"`))
				}
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("River's lines %q, want %q:\n%s", got, tt.want, buf.String())
			}
			if tt.level <= slog.LevelInfo && !strings.Contains(buf.String(), "purser started") {
				t.Fatalf("Purser's own info line is gone:\n%s", buf.String())
			}
		})
	}
}
