package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/riverqueue/river"
	"github.com/robfig/cron/v3"
	"github.com/spf13/cobra"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/export"
	"github.com/purserhq/purser/internal/postgres"
	"github.com/purserhq/purser/internal/sqldb"
	"github.com/purserhq/purser/internal/sqlite"
	"github.com/purserhq/purser/internal/worker"
)

// newBackupCmd is `purser backup FILE`: an online, portable copy of the
// configured database.
func newBackupCmd(stdout io.Writer) *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write the server's database to one portable archive, online (on the server's host)",
		Long: "Write the configured database (SQLite or PostgreSQL) to FILE, while the server runs: a gzip'd tar holding\n" +
			"the schema version, every table as JSON lines and a checksum of each. `purser restore` reads it into an\n" +
			"empty database of either kind. Secrets stay sealed in it: restoring needs the same secret_key\n" +
			"(for SQLite without one configured, the key in data_dir/secret.key).",
		Example: "  purser backup purser-2026-12-01.tar.gz\n  PURSER_DATABASE=postgres://... PURSER_SECRET_KEY=... purser backup pg.tar.gz",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := LoadConfig(configPath, os.Environ())
			if err != nil {
				return err
			}
			start := time.Now()
			sum, size, err := backupToFile(cmd.Context(), cfg, args[0])
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(stdout, "Backed up %d tables, %d rows and %d unfinished jobs (schema version %d) to %s: %d bytes in %s.\n"+
				"Secrets in it stay sealed: restoring needs this server's secret_key.\n",
				sum.Tables, sum.Rows, sum.Jobs, sum.schema, args[0], size, time.Since(start).Round(time.Millisecond))
			return err
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "the server's YAML configuration file")
	return cmd
}

// newRestoreCmd is `purser restore FILE`: an archive into an empty
// database of either kind.
func newRestoreCmd(stdout io.Writer) *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Read a backup archive into the configured database, which must be empty (on the server's host)",
		Long: "Read FILE, written by `purser backup`, into the configured database (SQLite or PostgreSQL, whichever\n" +
			"the backup came from). The database must hold no Purser data yet: restore before the first server start.\n" +
			"It refuses an archive from a newer Purser, and one whose secrets were sealed with another secret_key.\n" +
			"Nothing is written unless the whole archive is read and its checksums match.",
		Example: "  # SQLite to PostgreSQL\n  purser backup purser.tar.gz\n" +
			"  PURSER_DATABASE=postgres://... PURSER_SECRET_KEY=\"$(cat purser-data/secret.key)\" purser restore purser.tar.gz",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := LoadConfig(configPath, os.Environ())
			if err != nil {
				return err
			}
			start := time.Now()
			sum, err := restoreFromFile(cmd.Context(), cfg, args[0], func(table string, rows int64, done bool) {
				if done {
					fmt.Fprintf(stdout, "  %-24s %8d\n", table, rows)
				} else {
					fmt.Fprintf(stdout, "  %-24s %8d ...\n", table, rows)
				}
			})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(stdout, "Restored %d tables, %d rows and %d unfinished jobs from %s (Purser %s, %s, made %s) in %s.\n",
				sum.Tables, sum.Rows, sum.Jobs, args[0], sum.Manifest.PurserVersion, sum.Manifest.Engine,
				sum.Manifest.Created.Format(time.RFC3339), time.Since(start).Round(time.Millisecond))
			return err
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "the server's YAML configuration file")
	return cmd
}

// opened is the configured database opened for a backup or a restore.
type opened struct {
	db       *sqldb.DB
	snapshot func(ctx context.Context) (*sqldb.Snapshot, error)
	close    func() error
}

// openConfigured opens the configured database; with mustExist, a SQLite
// file that is not there is an error rather than a new database.
func openConfigured(ctx context.Context, cfg Config, mustExist bool) (*opened, error) {
	if cfg.IsPostgres() {
		s, err := postgres.Open(ctx, cfg.Database, nil)
		if err != nil {
			return nil, err
		}
		return &opened{db: s.DB, snapshot: s.Snapshot, close: s.Close}, nil
	}
	path := cfg.SQLitePath()
	if st, err := os.Stat(path); mustExist && (err != nil || st.Size() == 0) {
		return nil, fmt.Errorf("no Purser database at %s: run this where the server runs, with its data_dir (PURSER_DATA_DIR) or --config", path)
	}
	if err := cfg.ensureDataDir(); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	s, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	return &opened{db: s.DB, close: s.Close,
		snapshot: func(ctx context.Context) (*sqldb.Snapshot, error) { return s.Snapshot(ctx, dir) }}, nil
}

// keyFingerprint names a secret key without revealing it.
func keyFingerprint(key []byte) string {
	h := sha256.Sum256(append([]byte("purser secret_key fingerprint\x00"), key...))
	return hex.EncodeToString(h[:8])
}

type backupSummary struct {
	sqldb.BackupSummary
	schema int64
}

// backupToFile writes the configured database's archive to path, through a
// temporary file renamed into place once complete.
func backupToFile(ctx context.Context, cfg Config, path string) (backupSummary, int64, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return backupSummary{}, 0, err
	}
	defer os.Remove(f.Name()) // gone once renamed
	sum, err := writeBackup(ctx, cfg, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return sum, 0, err
	}
	st, err := os.Stat(f.Name())
	if err != nil {
		return sum, 0, err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return sum, 0, err
	}
	return sum, st.Size(), nil
}

// writeBackup writes the configured database's archive to w.
func writeBackup(ctx context.Context, cfg Config, w io.Writer) (backupSummary, error) {
	o, err := openConfigured(ctx, cfg, true) // first: no key is made for a database that is not there
	if err != nil {
		return backupSummary{}, err
	}
	defer o.close()
	key, err := loadSecretKey(cfg)
	if err != nil {
		return backupSummary{}, err
	}
	return writeSnapshot(ctx, o, key, w)
}

// writeSnapshot writes an archive of o, whose secrets key sealed, to w.
func writeSnapshot(ctx context.Context, o *opened, key []byte, w io.Writer) (backupSummary, error) {
	snap, err := o.snapshot(ctx)
	if err != nil {
		return backupSummary{}, err
	}
	defer snap.Close()
	m := sqldb.Manifest{PurserVersion: purser.Version, Created: time.Now().UTC().Truncate(time.Second), KeyFingerprint: keyFingerprint(key)}
	sum, err := sqldb.WriteArchive(ctx, snap, w, m)
	if err != nil {
		return backupSummary{}, fmt.Errorf("backup: %w", err)
	}
	var schema int64
	_ = o.db.Read.QueryRow(ctx, sqldb.SchemaVersionQuery).Scan(&schema)
	return backupSummary{sum, schema}, nil
}

// restoreFromFile reads the archive at path into the configured database.
func restoreFromFile(ctx context.Context, cfg Config, path string, progress sqldb.RestoreProgress) (sqldb.RestoreSummary, error) {
	f, err := os.Open(path)
	if err != nil {
		return sqldb.RestoreSummary{}, err
	}
	defer f.Close()
	key, err := loadSecretKey(cfg)
	if err != nil {
		return sqldb.RestoreSummary{}, err
	}
	o, err := openConfigured(ctx, cfg, false)
	if err != nil {
		return sqldb.RestoreSummary{}, err
	}
	defer o.close()
	sum, err := o.db.Restore(ctx, f, func(m sqldb.Manifest) error {
		if m.KeyFingerprint != keyFingerprint(key) {
			return fmt.Errorf("the backup's secrets were sealed with another secret_key (fingerprint %s, this configuration's %s): "+
				"set secret_key (PURSER_SECRET_KEY) to the key of the server that made it (for SQLite without one configured: its data_dir/secret.key)",
				m.KeyFingerprint, keyFingerprint(key))
		}
		return nil
	}, progress)
	if errors.Is(err, sqldb.ErrNotEmpty) {
		return sum, fmt.Errorf("restore into %s: %w", o.db.Name, err)
	}
	return sum, err
}

// BackupConfig schedules backups: the archive `purser backup` writes, made
// by the leader replica and written to a directory or a bucket, the oldest
// deleted beyond Retention.
type BackupConfig struct {
	// Schedule is when: a cron expression ("0 3 * * *", in UTC), or
	// @hourly, @daily, @every 6h...; empty: no scheduled backups.
	Schedule string `koanf:"schedule" yaml:"schedule"`
	// URL is where: a directory, file:///abs/dir (default
	// data_dir/backups), or s3://bucket[/prefix] with, for a store other
	// than AWS, ?endpoint=URL&region=R&use_path_style=true.
	URL string `koanf:"url" yaml:"url"`
	// Retention is how many scheduled backups are kept (default 7).
	Retention int `koanf:"retention" yaml:"retention"`
	// AccessKeyID and SecretAccessKey sign the S3 writes (use ${VAR} in
	// the file for the secret); AWSDefaultCredentials, without keys, takes
	// them from the AWS SDK's default chain.
	AccessKeyID           string `koanf:"access_key_id" yaml:"access_key_id"`
	SecretAccessKey       string `koanf:"secret_access_key" yaml:"secret_access_key" secret:"true"`
	AWSDefaultCredentials bool   `koanf:"aws_default_credentials" yaml:"aws_default_credentials"`
}

func (b BackupConfig) validate() error {
	if b.Schedule == "" {
		return nil
	}
	if _, err := cron.ParseStandard(b.Schedule); err != nil {
		return fmt.Errorf("config: backup.schedule must be a cron expression (\"0 3 * * *\") or @daily, @every 6h...: %v", err)
	}
	if b.Retention < 1 {
		return fmt.Errorf("config: backup.retention must be at least 1 (how many scheduled backups to keep)")
	}
	return nil
}

// backupMaker writes the archive of the server's own open store.
type backupMaker struct {
	o   *opened
	key []byte
}

func (m *backupMaker) WriteBackup(ctx context.Context, w io.Writer) error {
	_, err := writeSnapshot(ctx, m.o, m.key, w)
	return err
}

// scheduledBackups returns the backup worker and its schedule, or nils when
// backup.schedule is empty.
func scheduledBackups(ctx context.Context, cfg Config, o *opened, key []byte, logger *slog.Logger) (*worker.BackupWorker, river.PeriodicSchedule, error) {
	b := cfg.Backup
	if b.Schedule == "" {
		return nil, nil, nil
	}
	sched, err := cron.ParseStandard(b.Schedule)
	if err != nil {
		return nil, nil, err
	}
	u := b.URL
	if u == "" {
		if u, err = export.DirURL(filepath.Join(cfg.DataDir, "backups")); err != nil {
			return nil, nil, fmt.Errorf("config: backup.url: %w", err)
		}
	}
	bucket, err := export.Open(ctx, u, export.Options{AccessKeyID: b.AccessKeyID, SecretAccessKey: b.SecretAccessKey, DefaultCredentials: b.AWSDefaultCredentials})
	if err != nil {
		return nil, nil, fmt.Errorf("config: backup.url: %w", err)
	}
	logger.Info("scheduled backups", "schedule", b.Schedule, "url", bucket.URL(), "retention", b.Retention)
	return &worker.BackupWorker{Maker: &backupMaker{o: o, key: key}, Bucket: bucket, Keep: b.Retention, Now: time.Now,
		Logger: logger.With("component", "backup")}, sched, nil
}
