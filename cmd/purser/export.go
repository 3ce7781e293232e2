package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/purserhq/purser/internal/export"
)

// openExport opens where applied stack revisions are exported, and says
// where in the log.
func openExport(ctx context.Context, cfg Config, logger *slog.Logger) (*export.Bucket, error) {
	s := cfg.Stacks
	u := s.ExportURL
	if u == "" {
		var err error
		if u, err = export.DirURL(filepath.Join(cfg.DataDir, "stacks")); err != nil {
			return nil, fmt.Errorf("config: stacks.export_url: %w", err)
		}
	}
	b, err := export.Open(ctx, u, export.Options{AccessKeyID: s.ExportAccessKeyID, SecretAccessKey: s.ExportSecretAccessKey,
		DefaultCredentials: s.ExportAWSDefaultCredentials})
	if err != nil {
		return nil, fmt.Errorf("config: stacks.export_url: %w", err)
	}
	logger.Info("applied stack revisions are exported", "url", b.URL())
	return b, nil
}
