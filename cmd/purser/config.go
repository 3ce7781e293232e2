package main

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/structs"
	"github.com/knadh/koanf/v2"

	"github.com/purserhq/purser"
	"github.com/purserhq/purser/internal/outbound"
	"github.com/purserhq/purser/internal/registry"
)

// Config is the server's whole configuration: defaults, then the YAML file
// (--config), then PURSER_* environment variables. Values in the file may
// use ${VAR} to take secrets from the environment. Fields tagged secret
// are redacted by --print-config.
type Config struct {
	Listen         string `koanf:"listen" yaml:"listen"`
	DataDir        string `koanf:"data_dir" yaml:"data_dir"`
	Database       string `koanf:"database" yaml:"database" secret:"url"`
	BootstrapToken string `koanf:"bootstrap_token" yaml:"bootstrap_token" secret:"true"`
	// SecretKey encrypts secrets at rest: 32 bytes, base64. Empty with
	// SQLite: one is made in data_dir/secret.key. PostgreSQL replicas must
	// share one, so there it is required.
	SecretKey string `koanf:"secret_key" yaml:"secret_key" secret:"true"`
	// SecretKeyPrevious are former keys, comma-separated, kept while
	// rotating: secrets sealed with them still open, and every secret is
	// resealed with secret_key at start.
	SecretKeyPrevious string        `koanf:"secret_key_previous" yaml:"secret_key_previous" secret:"true"`
	PublicURL         string        `koanf:"public_url" yaml:"public_url"`
	ShutdownTimeout   time.Duration `koanf:"shutdown_timeout" yaml:"shutdown_timeout"`
	Log               LogConfig     `koanf:"log" yaml:"log"`
	Workers           WorkersConfig `koanf:"workers" yaml:"workers"`
	SMTP              SMTPConfig    `koanf:"smtp" yaml:"smtp"`
	Sim               SimConfig     `koanf:"sim" yaml:"sim"`
	Exec              ExecConfig    `koanf:"exec" yaml:"exec"`
	// Stacks sets where applied stack revisions are exported, and how
	// image tags are cached.
	Stacks StacksConfig `koanf:"stacks" yaml:"stacks"`

	Requests    RequestsConfig    `koanf:"requests" yaml:"requests"`
	Permissions PermissionsConfig `koanf:"permissions" yaml:"permissions"`
	// Outbound is the policy for calls to URLs users choose.
	Outbound OutboundConfig `koanf:"outbound" yaml:"outbound"`
	// HTTP bounds what one client can hold of the server; Metrics guards /metrics.
	HTTP    HTTPConfig    `koanf:"http" yaml:"http"`
	Metrics MetricsConfig `koanf:"metrics" yaml:"metrics"`
	// Slack is Purser's Slack app (slack.go); off unless signing_secret is set.
	Slack SlackConfig `koanf:"slack" yaml:"slack"`

	// Pools sets when silent hosts turn SUSPECT and UNHEALTHY, and how
	// often the health sweep runs.
	Pools PoolsConfig `koanf:"pools" yaml:"pools"`
	// UI sets the web UI's cookies and its OpenID Connect sign-in (ui_config.go).
	UI UIConfig `koanf:"ui" yaml:"ui"`

	// Backup schedules backups of the store to a directory or a bucket
	// (backup.go); off unless schedule is set.
	Backup BackupConfig `koanf:"backup" yaml:"backup"`

	// Cache keeps the catalog and image tags in this process, or in Redis
	// shared by every replica (cache.go).
	Cache CacheConfig `koanf:"cache" yaml:"cache"`
	// Telemetry exports OpenTelemetry traces; off by default (telemetry.go).
	Telemetry TelemetryConfig `koanf:"telemetry" yaml:"telemetry"`
}

// PoolsConfig times hosts' health (DESIGN.md: suspect after 50 s,
// unhealthy after 5 min) and the sweep that applies it and heals pools.
type PoolsConfig struct {
	SuspectAfter   time.Duration `koanf:"suspect_after" yaml:"suspect_after"`
	UnhealthyAfter time.Duration `koanf:"unhealthy_after" yaml:"unhealthy_after"`
	SweepEvery     time.Duration `koanf:"sweep_every" yaml:"sweep_every"`
	// JoinTimeout bounds a hook run from when it is queued (default 10
	// min): a host that has not joined by then fails its join and the pool
	// places another; a leave or reboot that has not finished fails.
	JoinTimeout time.Duration `koanf:"join_timeout" yaml:"join_timeout"`
	// Autoscaling (docs/pools.md): up when pods are pending, or when
	// requests stay above ScaleUpUtilisation of allocatable for
	// ScaleUpAfter; down below
	// ScaleDownUtilisation held ScaleDownAfter, not within ScaleUpCooldown
	// of a scale-up; a busy member's drain forced after
	// ScaleDownDrainDeadline.
	ScaleUpUtilisation     float64       `koanf:"scale_up_utilisation" yaml:"scale_up_utilisation"`
	ScaleUpAfter           time.Duration `koanf:"scale_up_after" yaml:"scale_up_after"`
	ScaleDownUtilisation   float64       `koanf:"scale_down_utilisation" yaml:"scale_down_utilisation"`
	ScaleDownAfter         time.Duration `koanf:"scale_down_after" yaml:"scale_down_after"`
	ScaleUpCooldown        time.Duration `koanf:"scale_up_cooldown" yaml:"scale_up_cooldown"`
	ScaleDownDrainDeadline time.Duration `koanf:"scale_down_drain_deadline" yaml:"scale_down_drain_deadline"`
}

// scalePolicy is the autoscaling policy the configuration sets.
func (p PoolsConfig) scalePolicy() purser.ScalePolicy {
	return purser.ScalePolicy{HighWater: p.ScaleUpUtilisation, LowWater: p.ScaleDownUtilisation, UpAfter: p.ScaleUpAfter, DownAfter: p.ScaleDownAfter,
		Cooldown: p.ScaleUpCooldown, DrainDeadline: p.ScaleDownDrainDeadline}
}

// StacksConfig sets what happens to clusters' stacks beyond the database:
// where applied revisions are exported, and how image tags are cached.
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
	// TagsTTL is how long a registry's answer is served from the cache.
	TagsTTL time.Duration `koanf:"tags_ttl" yaml:"tags_ttl"`
	// TagsStale is how long an answer is kept, from when the registry
	// gave it, to be served with a warning when the registry fails.
	TagsStale time.Duration `koanf:"tags_stale" yaml:"tags_stale"`
}

// OutboundConfig sets the outbound policy that webhooks, Slack, OCI registries and exec
// templates' url: files go through (not Kubernetes clusters).
type OutboundConfig struct {
	// Allow lists CIDRs, addresses or host names calls may reach though
	// they are loopback, link-local, private or otherwise special:
	// PURSER_OUTBOUND_ALLOW takes them comma-separated.
	Allow []string `koanf:"allow" yaml:"allow"`
}

// RequestsConfig limits provision requests.
type RequestsConfig struct {
	// MaxPending is how many requests one user may have waiting for
	// review (REQUESTED) at once; the next is refused with 409.
	MaxPending int `koanf:"max_pending" yaml:"max_pending"`
}

// PermissionsConfig grants the permissions that are the server's to set
// rather than the roles API's.
type PermissionsConfig struct {
	// TemplatesExec are the roles that may create or change exec
	// templates (templates:exec; they need templates:write too): their
	// commands run on the server.
	TemplatesExec []string `koanf:"templates_exec" yaml:"templates_exec"`
}

// HTTPConfig bounds what one client can hold of the HTTP server: time to
// send a request, to take an answer, to idle between requests, connections
// at once, failed authentications per minute.
type HTTPConfig struct {
	ReadHeaderTimeout time.Duration `koanf:"read_header_timeout" yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration `koanf:"read_timeout" yaml:"read_timeout"`
	// WriteTimeout bounds a request from its headers to the end of its
	// answer; live streams (log follow) lift it for themselves.
	WriteTimeout time.Duration `koanf:"write_timeout" yaml:"write_timeout"`
	// IdleTimeout closes a kept-alive connection with no request.
	IdleTimeout time.Duration `koanf:"idle_timeout" yaml:"idle_timeout"`
	// MaxConnections caps the connections open at once; more wait.
	MaxConnections int `koanf:"max_connections" yaml:"max_connections"`
	// AuthFailuresPerMinute is how many bad tokens one client address may
	// present in a minute before it is answered 429; 0 turns it off.
	AuthFailuresPerMinute int `koanf:"auth_failures_per_minute" yaml:"auth_failures_per_minute"`
}

// MetricsConfig guards /metrics.
type MetricsConfig struct {
	// Token, when set, is required as "Authorization: Bearer <token>" on
	// /metrics; empty leaves /metrics open.
	Token string `koanf:"token" yaml:"token" secret:"true"`
}

// ExecConfig sets the exec driver.
type ExecConfig struct {
	// TemplatesDir is where templates' `source:` files are read from.
	TemplatesDir string `koanf:"templates_dir" yaml:"templates_dir"`
	// Concurrency is how many exec commands run at once.
	Concurrency int `koanf:"concurrency" yaml:"concurrency"`
	// Env is added to every command's environment, name to value (PATH
	// among them, if the default will not do); values may be ${VAR}.
	// Nothing else of the server's environment reaches a command.
	Env map[string]string `koanf:"env" yaml:"env" secret:"values"`
	// RunAs is the user commands run as: a name, or uid[:gid]. A server
	// running as root without it keeps the exec driver disabled.
	RunAs string `koanf:"run_as" yaml:"run_as"`
	// WorkDir holds one directory per request: default data_dir/exec,
	// made absolute at load. With RunAs set and WorkDir inside data_dir,
	// the server lets others traverse data_dir (0711) and keeps every
	// file in it private to itself.
	WorkDir string `koanf:"work_dir" yaml:"work_dir"`
}

// absWorkDir returns the exec work directory as an absolute path.
func (e ExecConfig) absWorkDir(dataDir string) (string, error) {
	dir := e.WorkDir
	if dir == "" {
		dir = filepath.Join(dataDir, "exec")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("config: exec.work_dir: %w", err)
	}
	return abs, nil
}

// SMTPConfig is the mail server notifications go through.
type SMTPConfig struct {
	Host               string `koanf:"host" yaml:"host"`
	Port               int    `koanf:"port" yaml:"port"`
	Username           string `koanf:"username" yaml:"username"`
	Password           string `koanf:"password" yaml:"password" secret:"true"`
	From               string `koanf:"from" yaml:"from"`
	TLS                string `koanf:"tls" yaml:"tls"` // starttls, opportunistic, tls, none
	InsecureSkipVerify bool   `koanf:"insecure_skip_verify" yaml:"insecure_skip_verify"`
}

// SimConfig sets the simulated cloud's defaults (templates may override).
type SimConfig struct {
	Delay       time.Duration `koanf:"delay" yaml:"delay"`
	FailureRate float64       `koanf:"failure_rate" yaml:"failure_rate"`
	// RolloutTime is how long a sim cluster takes to roll out one service
	// of a stack (default 2s; negative: at once).
	RolloutTime time.Duration `koanf:"rollout_time" yaml:"rollout_time"`
}

// LogConfig sets logging.
type LogConfig struct {
	Level  string `koanf:"level" yaml:"level"`   // debug, info, warn, error
	Format string `koanf:"format" yaml:"format"` // json or text; empty: text on a terminal, else json
}

// WorkersConfig sizes the job queue.
type WorkersConfig struct {
	// Max is how many provisions, purges and expiry sweeps run at once:
	// the provision queue, which no other job waits in.
	Max int `koanf:"max" yaml:"max"`
	// NotifyMax is how many notifications are delivered at once.
	NotifyMax int `koanf:"notify_max" yaml:"notify_max"`
	// DefaultMax is how many other jobs (analyses, credential refreshes,
	// maintenance) run at once.
	DefaultMax int `koanf:"default_max" yaml:"default_max"`
	// StacksMax is how many clusters' stacks roll out at once.
	StacksMax   int           `koanf:"stacks_max" yaml:"stacks_max"`
	MaxAttempts int           `koanf:"max_attempts" yaml:"max_attempts"`
	JobTimeout  time.Duration `koanf:"job_timeout" yaml:"job_timeout"`
	RescueAfter time.Duration `koanf:"rescue_after" yaml:"rescue_after"`
	RetryBase   time.Duration `koanf:"retry_base" yaml:"retry_base"`
	ExpireEvery time.Duration `koanf:"expire_every" yaml:"expire_every"`
	// HeartbeatEvery is how often a replica renews its lease and rescues
	// the jobs of replicas whose lease lapsed (LeaseTTL without renewal).
	HeartbeatEvery time.Duration `koanf:"heartbeat_every" yaml:"heartbeat_every"`
}

// LeaseTTL is how long a replica's lease outlives its last renewal: three
// heartbeats, so that one or two slow renewals do not get a live replica's
// jobs rescued.
func (w WorkersConfig) LeaseTTL() time.Duration { return 3 * w.HeartbeatEvery }

// DefaultConfig returns the embedded default: SQLite in ./purser-data.
func DefaultConfig() Config {
	return Config{
		Listen:          "127.0.0.1:8080",
		DataDir:         "./purser-data",
		ShutdownTimeout: 30 * time.Second,
		Log:             LogConfig{Level: "info"},
		Workers: WorkersConfig{Max: 10, NotifyMax: 5, DefaultMax: 5, StacksMax: 5, MaxAttempts: 5, JobTimeout: 10 * time.Minute, RescueAfter: 15 * time.Minute,
			RetryBase: 10 * time.Second, ExpireEvery: time.Minute, HeartbeatEvery: 5 * time.Second},
		SMTP: SMTPConfig{Port: 587, From: "purser@localhost", TLS: "starttls"},
		Exec: ExecConfig{Concurrency: 2},

		Requests:    RequestsConfig{MaxPending: purser.DefaultMaxPending},
		Permissions: PermissionsConfig{TemplatesExec: []string{purser.RoleAdmin}},
		HTTP: HTTPConfig{ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute,
			IdleTimeout: 2 * time.Minute, MaxConnections: 1024, AuthFailuresPerMinute: 30},
		Stacks: StacksConfig{TagsTTL: registry.DefaultTTL, TagsStale: registry.DefaultStaleTTL},
		Cache:  CacheConfig{TTL: time.Hour},

		Backup: BackupConfig{Retention: 7},

		Pools: PoolsConfig{SuspectAfter: purser.DefaultSuspectAfter, UnhealthyAfter: purser.DefaultUnhealthyAfter, SweepEvery: purser.DefaultHeartbeat,
			JoinTimeout:        purser.DefaultJoinTimeout,
			ScaleUpUtilisation: purser.DefaultScaleUpAbove, ScaleDownUtilisation: purser.DefaultScaleDownBelow, ScaleDownAfter: purser.DefaultScaleDownAfter,
			ScaleUpAfter: purser.DefaultScaleUpAfter, ScaleUpCooldown: purser.DefaultScaleUpCooldown, ScaleDownDrainDeadline: purser.DefaultDrainDeadline},
	}
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// LoadConfig loads the configuration from path ("" for none) and environ.
func LoadConfig(path string, environ []string) (Config, error) {
	k := koanf.New(".")
	if err := k.Load(structs.Provider(DefaultConfig(), "koanf"), nil); err != nil {
		return Config{}, err
	}
	envMap := map[string]string{}
	for _, kv := range environ {
		if name, val, ok := strings.Cut(kv, "="); ok {
			envMap[name] = val
		}
	}
	if path != "" {
		if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
			return Config{}, fmt.Errorf("config %s: %w", path, err)
		}
		for _, key := range k.Keys() {
			if s, ok := k.Get(key).(string); ok && strings.Contains(s, "${") {
				var missing []string
				expanded := varRef.ReplaceAllStringFunc(s, func(m string) string {
					name := varRef.FindStringSubmatch(m)[1]
					v, ok := envMap[name]
					if !ok {
						missing = append(missing, name)
					}
					return v
				})
				if len(missing) > 0 {
					return Config{}, fmt.Errorf("config %s: %s refers to unset environment variable %s", path, key, strings.Join(missing, ", "))
				}
				_ = k.Set(key, expanded)
			}
		}
	}
	// PURSER_DATA_DIR -> data_dir, PURSER_LOG_LEVEL -> log.level: map every
	// known key to its variable name, so that keys with underscores work.
	byEnv := map[string]string{}
	for _, key := range k.Keys() {
		byEnv["PURSER_"+strings.ToUpper(strings.ReplaceAll(key, ".", "_"))] = key
	}
	err := k.Load(env.Provider(".", env.Opt{
		Prefix: "PURSER_",
		TransformFunc: func(name, value string) (string, any) {
			if key, ok := byEnv[name]; ok {
				if reflect.ValueOf(k.Get(key)).Kind() == reflect.Slice {
					list := []string{} // lists: comma-separated
					for _, v := range strings.Split(value, ",") {
						if v = strings.TrimSpace(v); v != "" {
							list = append(list, v)
						}
					}
					return key, list
				}
				return key, value
			}
			return "", nil
		},
		EnvironFunc: func() []string { return environ },
	}), nil)
	if err != nil {
		return Config{}, err
	}
	var c Config
	if err := k.UnmarshalWithConf("", &c, koanf.UnmarshalConf{Tag: "koanf"}); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if c.Exec.WorkDir, err = c.Exec.absWorkDir(c.DataDir); err != nil {
		return Config{}, err
	}
	return c, c.Validate()
}

// Validate checks the configuration, naming the key at fault.
func (c Config) Validate() error {
	if _, port, err := net.SplitHostPort(c.Listen); err != nil || port == "" {
		return fmt.Errorf("config: listen must be host:port, such as 127.0.0.1:8080 or :8080 (got %q)", c.Listen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("config: listen's port must be a number from 0 to 65535 (got %q)", port)
	}
	if c.Database != "" && !c.IsPostgres() && !strings.HasPrefix(c.Database, "sqlite:") && !strings.HasSuffix(c.Database, ".db") {
		return fmt.Errorf("config: database must be a postgres:// URL, or a SQLite path (sqlite:PATH or PATH.db); leave it empty for SQLite in data_dir")
	}
	if c.Workers.Max < 1 {
		return fmt.Errorf("config: workers.max must be at least 1")
	}
	if c.Workers.NotifyMax < 1 {
		return fmt.Errorf("config: workers.notify_max must be at least 1")
	}
	if c.Workers.DefaultMax < 1 {
		return fmt.Errorf("config: workers.default_max must be at least 1")
	}
	if c.Workers.StacksMax < 1 {
		return fmt.Errorf("config: workers.stacks_max must be at least 1")
	}
	if c.Workers.MaxAttempts < 1 {
		return fmt.Errorf("config: workers.max_attempts must be at least 1")
	}
	if c.Workers.RescueAfter <= c.Workers.JobTimeout {
		return fmt.Errorf("config: workers.rescue_after must be longer than workers.job_timeout")
	}
	if c.Workers.HeartbeatEvery <= 0 {
		return fmt.Errorf("config: workers.heartbeat_every must be positive")
	}
	if p := c.Pools; p.SuspectAfter <= 0 || p.UnhealthyAfter <= p.SuspectAfter || p.SweepEvery <= 0 || p.JoinTimeout <= 0 {
		return fmt.Errorf("config: pools.suspect_after, pools.sweep_every and pools.join_timeout must be positive, and pools.unhealthy_after longer than pools.suspect_after")
	}
	if p := c.Pools; p.ScaleDownUtilisation <= 0 || p.ScaleUpUtilisation <= p.ScaleDownUtilisation || p.ScaleUpUtilisation > 1 ||
		p.ScaleDownAfter <= 0 || p.ScaleUpAfter <= 0 || p.ScaleUpCooldown < 0 || p.ScaleDownDrainDeadline <= 0 {
		return fmt.Errorf("config: pools.scale_down_utilisation must be above 0 and below pools.scale_up_utilisation, itself at most 1; " +
			"pools.scale_up_after, pools.scale_down_after and pools.scale_down_drain_deadline must be positive, pools.scale_up_cooldown not negative")
	}
	if c.Workers.LeaseTTL() >= c.Workers.RescueAfter {
		return fmt.Errorf("config: workers.rescue_after must be longer than three workers.heartbeat_every (a replica's lease)")
	}
	if c.Sim.FailureRate < 0 || c.Sim.FailureRate > 1 {
		return fmt.Errorf("config: sim.failure_rate must be between 0 and 1")
	}
	if c.Requests.MaxPending < 1 {
		return fmt.Errorf("config: requests.max_pending must be at least 1")
	}
	if err := c.Cache.validate(); err != nil {
		return err
	}
	if err := c.Stacks.validate(); err != nil {
		return err
	}
	if err := c.Slack.validate(); err != nil {
		return err
	}
	if err := c.UI.OIDC.validate(); err != nil {
		return err
	}
	if err := c.Backup.validate(); err != nil {
		return err
	}
	switch c.Log.Format {
	case "", "json", "text":
	default:
		return fmt.Errorf("config: log.format must be json or text (or empty: text on a terminal, json otherwise)")
	}
	if _, err := outbound.NewPolicy(c.Outbound.Allow); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if c.BootstrapToken != "" && len(c.BootstrapToken) < minBootstrapToken {
		return fmt.Errorf("config: bootstrap_token must be at least %d characters (make one with: echo pst_$(head -c24 /dev/urandom | base64 | tr +/ -_))", minBootstrapToken)
	}
	return c.HTTP.validate()
}

// minBootstrapToken is the shortest bootstrap_token accepted: it is an
// admin's credential, chosen by a person.
const minBootstrapToken = 32

func (h HTTPConfig) validate() error {
	for _, t := range []struct {
		key string
		d   time.Duration
	}{{"read_header_timeout", h.ReadHeaderTimeout}, {"read_timeout", h.ReadTimeout}, {"write_timeout", h.WriteTimeout}, {"idle_timeout", h.IdleTimeout}} {
		if t.d <= 0 {
			return fmt.Errorf("config: http.%s must be positive", t.key)
		}
	}
	if h.MaxConnections < 1 {
		return fmt.Errorf("config: http.max_connections must be at least 1")
	}
	if h.AuthFailuresPerMinute < 0 {
		return fmt.Errorf("config: http.auth_failures_per_minute must be 0 (off) or more")
	}
	return nil
}

// IsPostgres reports whether the database is PostgreSQL.
func (c Config) IsPostgres() bool {
	return strings.HasPrefix(c.Database, "postgres://") || strings.HasPrefix(c.Database, "postgresql://")
}

// SQLitePath returns the SQLite file's path.
func (c Config) SQLitePath() string {
	if c.Database == "" {
		return filepath.Join(c.DataDir, "purser.db")
	}
	return strings.TrimPrefix(c.Database, "sqlite:")
}

// Redacted returns a copy with every secret replaced, for printing.
func (c Config) Redacted() Config {
	redact(reflect.ValueOf(&c).Elem())
	return c
}

func redact(v reflect.Value) {
	t := v.Type()
	for i := range t.NumField() {
		f := v.Field(i)
		if f.Kind() == reflect.Struct && f.Type() != reflect.TypeOf(time.Time{}) {
			redact(f)
			continue
		}
		switch t.Field(i).Tag.Get("secret") {
		case "values":
			if f.Len() > 0 {
				m := reflect.MakeMap(f.Type())
				for _, k := range f.MapKeys() {
					m.SetMapIndex(k, reflect.ValueOf("[redacted]"))
				}
				f.Set(m)
			}
		case "true":
			if f.String() != "" {
				f.SetString("[redacted]")
			}
		case "url":
			f.SetString(redactURL(f.String()))
		}
	}
}

// redactURL hides a URL's password, in its user part and in its query
// (postgres://h/db?password=x, sslpassword=...), keeping the rest as written.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	changed := false
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "redacted")
			changed = true
		}
	}
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			k, _, _ := strings.Cut(p, "=")
			if k, err := url.QueryUnescape(k); err == nil && strings.HasSuffix(strings.ToLower(k), "password") {
				parts[i] = url.QueryEscape(k) + "=redacted"
				changed = true
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	if !changed {
		return s
	}
	return u.String()
}

// ensureDataDir creates the data directory, private to its owner.
func (c Config) ensureDataDir() error {
	return os.MkdirAll(c.DataDir, 0o700)
}
