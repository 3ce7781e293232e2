package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/purserhq/purser/internal/export"
)

// StacksConfig sets what happens to clusters' stacks beyond the database.
type StacksConfig struct {
	// ExportURL is where every applied revision is written, one object per
	// cluster named after it holding its stackfile as JSON: a directory,
	// file:///abs/dir (default data_dir/stacks), or a bucket,
	// s3://bucket[/prefix] with, for a store other than AWS,
	// ?endpoint=URL&region=R&use_path_style=true.
	ExportURL string `koanf:"export_url" yaml:"export_url"`
	// ExportAccessKeyID and ExportSecretAccessKey sign the S3 writes
	// (use ${VAR} in the file for the secret).
	ExportAccessKeyID     string `koanf:"export_access_key_id" yaml:"export_access_key_id"`
	ExportSecretAccessKey string `koanf:"export_secret_access_key" yaml:"export_secret_access_key" secret:"true"`
	// ExportAWSDefaultCredentials, without keys, takes S3 credentials from
	// the AWS SDK's default chain (AWS_* variables, shared files, an
	// instance or task role); off, the server never looks for them.
	ExportAWSDefaultCredentials bool `koanf:"export_aws_default_credentials" yaml:"export_aws_default_credentials"`
}

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
