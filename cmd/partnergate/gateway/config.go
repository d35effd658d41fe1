package gateway

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"partnergate/core/access"
	"partnergate/core/captcha"
	"partnergate/core/delivery"
	"partnergate/core/files"
	"partnergate/core/kyc"
	"partnergate/core/password"
	"partnergate/rpc"
)

// Config is every setting. Each has an environment variable and a flag of the
// same meaning; flags win. docs/configuration.md lists them.
type Config struct {
	Addr          string
	DatabaseURL   string
	RedisURL      string
	DataDir       string
	SecretKey     string
	SecretKeyFile string
	Dev           bool
	LogLevel      string
	PprofAddr     string
	MetricsToken  string
	// Console serves the admin console at /console/ (always on in dev mode).
	Console bool

	TrustedProxies []netip.Prefix
	Limits         rpc.Limits

	Argon2    password.Params
	HashSlots int
	HashWait  time.Duration
	Rates     map[string]access.Rate
	Shutdown  time.Duration

	PublicURL string
	// JWTAlg is the algorithm of signing keys this gateway creates.
	JWTAlg string
	// GeoIPDB is a MaxMind-format database placing IPs (country,
	// continent, city); empty places nothing.
	GeoIPDB                      string
	RedisPrefix                  string
	SMTP                         delivery.SMTPConfig
	Webhook                      delivery.WebhookConfig
	SessionIdle, SessionAbsolute time.Duration
	// TOTPIssuer names the service in authenticator apps.
	TOTPIssuer string
	// Captcha guards seed 002's sign-up, login, reset and confirmation.
	Captcha captcha.Config
	// KYCLimits cap seed 002's labels and phones per user.
	KYCLimits kyc.Limits
	Files     FilesConfig
	// MaxAPIKeys caps a user's API keys (seed 002).
	MaxAPIKeys int
	// AdminTwoFactor refuses admin.* to users whose 2FA is off.
	AdminTwoFactor bool
}

// FilesConfig is where uploaded files live and their limits (core/files).
type FilesConfig struct {
	// Backend is "fs" (a directory; the default) or "s3".
	Backend string
	// Dir is the fs backend's directory; "" is DATA_DIR/files.
	Dir    string
	S3     files.S3Config
	Policy files.Policy
	// MaxDocuments caps a user's KYC documents (seed 002).
	MaxDocuments int
	// StorageTitles is the allowlist of data-storage titles; nil admits any
	// well-formed title.
	StorageTitles []string
}

// setting is one documented setting.
type setting struct {
	env, flag, def, doc string
	set                 func(c *Config, v string) error
}

func settings() []setting {
	str := func(p func(c *Config) *string) func(*Config, string) error {
		return func(c *Config, v string) error { *p(c) = v; return nil }
	}
	dur := func(p func(c *Config) *time.Duration) func(*Config, string) error {
		return func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return fmt.Errorf("want a duration like 30s, got %q", v)
			}
			*p(c) = d
			return nil
		}
	}
	num := func(p func(c *Config) *int, lo int) func(*Config, string) error {
		return func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < lo {
				return fmt.Errorf("want a whole number ≥ %d, got %q", lo, v)
			}
			*p(c) = n
			return nil
		}
	}
	return []setting{
		{"PARTNERGATE_ADDR", "addr", "127.0.0.1:8080", "address to listen on", str(func(c *Config) *string { return &c.Addr })},
		{"DATABASE_URL", "database-url", "", "Postgres URL (postgres://…); unset: embedded SQLite", str(func(c *Config) *string { return &c.DatabaseURL })},
		{"REDIS_URL", "redis-url", "", "redis://, rediss:// or host:port,host:port (Cluster); unset: in-process Redis", str(func(c *Config) *string { return &c.RedisURL })},
		{"PARTNERGATE_REDIS_PREFIX", "redis-prefix", "pg:", "prefix of every Redis key, so several deployments can share one Redis", str(func(c *Config) *string { return &c.RedisPrefix })},
		{"PARTNERGATE_DATA_DIR", "data-dir", "./data", "embedded mode's directory (SQLite file, generated key)", str(func(c *Config) *string { return &c.DataDir })},
		{"PARTNERGATE_SECRET_KEY", "secret-key", "", "comma-separated base64 32-byte keys, current first (rotation)", str(func(c *Config) *string { return &c.SecretKey })},
		{"PARTNERGATE_SECRET_KEY_FILE", "secret-key-file", "", "file holding the keys, one per line; default DATA_DIR/secret.key", str(func(c *Config) *string { return &c.SecretKeyFile })},
		{"PARTNERGATE_DEV", "dev", "false", "dev mode: outbox readable by dev.outbox.list; loopback only", func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			c.Dev = b
			return err
		}},
		{"PARTNERGATE_CONSOLE", "console", "false", "serve the admin console at /console/ (on in dev mode whatever this says)", func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			c.Console = b
			return err
		}},
		{"PARTNERGATE_ADMIN_REQUIRE_2FA", "admin-require-2fa", "true", "admin.* callers (users) must have 2FA on", func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			c.AdminTwoFactor = b
			return err
		}},
		{"PARTNERGATE_LOG_LEVEL", "log-level", "info", "debug, info, warn, error or disabled", str(func(c *Config) *string { return &c.LogLevel })},
		{"PARTNERGATE_METRICS_TOKEN", "metrics-token", "", "bearer token GET /metrics requires; unset: /metrics is served in dev mode only", str(func(c *Config) *string { return &c.MetricsToken })},
		{"PARTNERGATE_PPROF_ADDR", "pprof-addr", "", "serve net/http/pprof on this (loopback) address; unset: off", str(func(c *Config) *string { return &c.PprofAddr })},
		{"PARTNERGATE_TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated CIDRs whose X-Forwarded-For is believed", func(c *Config, v string) error {
			c.TrustedProxies = nil
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s == "" {
					continue
				}
				p, err := netip.ParsePrefix(s)
				if err != nil {
					a, aerr := netip.ParseAddr(s)
					if aerr != nil {
						return fmt.Errorf("not a CIDR or address: %q", s)
					}
					p = netip.PrefixFrom(a, a.BitLen())
				}
				c.TrustedProxies = append(c.TrustedProxies, p)
			}
			return nil
		}},
		{"PARTNERGATE_MAX_BODY", "max-body", "1048576", "largest request body, bytes", func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1024 {
				return fmt.Errorf("want bytes ≥ 1024, got %q", v)
			}
			c.Limits.MaxBody = n
			return nil
		}},
		{"PARTNERGATE_MAX_BATCH", "max-batch", "100", "most calls in one batch", num(func(c *Config) *int { return &c.Limits.MaxBatch }, 1)},
		{"PARTNERGATE_MAX_DEPTH", "max-depth", "32", "deepest JSON nesting", num(func(c *Config) *int { return &c.Limits.MaxDepth }, 2)},
		{"PARTNERGATE_ARGON2_MEMORY", "argon2-memory", "19456", "argon2id memory, KiB", func(c *Config, v string) error {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil || n < 8 {
				return fmt.Errorf("want KiB ≥ 8, got %q", v)
			}
			c.Argon2.Memory = uint32(n)
			return nil
		}},
		{"PARTNERGATE_ARGON2_ITERATIONS", "argon2-iterations", "2", "argon2id iterations", func(c *Config, v string) error {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil || n < 1 {
				return fmt.Errorf("want ≥ 1, got %q", v)
			}
			c.Argon2.Iterations = uint32(n)
			return nil
		}},
		{"PARTNERGATE_ARGON2_PARALLELISM", "argon2-parallelism", "1", "argon2id lanes", func(c *Config, v string) error {
			n, err := strconv.ParseUint(v, 10, 8)
			if err != nil || n < 1 {
				return fmt.Errorf("want 1 to 255, got %q", v)
			}
			c.Argon2.Parallelism = uint8(n)
			return nil
		}},
		{"PARTNERGATE_HASH_SLOTS", "hash-slots", strconv.Itoa(2 * runtime.NumCPU()), "argon2id hashes at once (default 2 × cores)", num(func(c *Config) *int { return &c.HashSlots }, 1)},
		{"PARTNERGATE_HASH_WAIT", "hash-wait", "1s", "longest expected wait for a hashing slot (callers ahead × measured hash time ÷ slots) before answering throttled", dur(func(c *Config) *time.Duration { return &c.HashWait })},
		{"PARTNERGATE_RATES", "rates", "", "rate classes, e.g. login=6000/1m/300,register=1200/1m/100 (limit/per/burst)", func(c *Config, v string) error {
			for _, item := range strings.Split(v, ",") {
				if item = strings.TrimSpace(item); item == "" {
					continue
				}
				name, spec, ok := strings.Cut(item, "=")
				parts := strings.Split(spec, "/")
				if !ok || len(parts) != 3 {
					return fmt.Errorf("want class=limit/per/burst, got %q", item)
				}
				limit, e1 := strconv.Atoi(parts[0])
				per, e2 := time.ParseDuration(parts[1])
				burst, e3 := strconv.Atoi(parts[2])
				if e1 != nil || e2 != nil || e3 != nil || limit < 1 || per <= 0 || burst < 1 {
					return fmt.Errorf("bad rate %q", item)
				}
				if _, known := c.Rates[name]; !known {
					return fmt.Errorf("unknown rate class %q", name)
				}
				c.Rates[name] = access.Rate{Limit: limit, Per: per, Burst: burst}
			}
			return nil
		}},
		{"PARTNERGATE_GEOIP_DB", "geoip-db", "", "MaxMind-format .mmdb (GeoLite2/GeoIP2 City or Country) placing caller IPs for the activity trail, restrictions and authorisation history; empty: no places", str(func(c *Config) *string { return &c.GeoIPDB })},
		{"PARTNERGATE_JWT_ALG", "jwt-alg", "EdDSA", "algorithm of new access-JWT signing keys: EdDSA (Ed25519) or ES256 (P-256); keys already made keep theirs", str(func(c *Config) *string { return &c.JWTAlg })},
		{"PARTNERGATE_PUBLIC_URL", "public-url", "", "base URL of links the gateway sends (backup downloads), e.g. https://id.example.com; never taken from the request's Host", str(func(c *Config) *string { return &c.PublicURL })},
		{"PARTNERGATE_SMTP_HOST", "smtp-host", "", "SMTP server for email codes and links; unset outside dev mode: email is not delivered", str(func(c *Config) *string { return &c.SMTP.Host })},
		{"PARTNERGATE_SMTP_PORT", "smtp-port", "587", "SMTP port", num(func(c *Config) *int { return &c.SMTP.Port }, 1)},
		{"PARTNERGATE_SMTP_FROM", "smtp-from", "", "sender address of email messages", str(func(c *Config) *string { return &c.SMTP.From })},
		{"PARTNERGATE_SMTP_USERNAME", "smtp-username", "", "SMTP login (PLAIN, only over TLS or to localhost)", str(func(c *Config) *string { return &c.SMTP.Username })},
		{"PARTNERGATE_SMTP_PASSWORD", "smtp-password", "", "SMTP password", str(func(c *Config) *string { return &c.SMTP.Password })},
		{"PARTNERGATE_SMTP_REQUIRE_TLS", "smtp-require-tls", "false", "refuse to send unless the server offers STARTTLS", func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			c.SMTP.RequireTLS = b
			return err
		}},
		{"PARTNERGATE_SMS_WEBHOOK_URL", "sms-webhook-url", "", "HTTP endpoint that receives {\"to\",\"body\"} for SMS codes; unset outside dev mode: SMS is not delivered", str(func(c *Config) *string { return &c.Webhook.URL })},
		{"PARTNERGATE_SMS_WEBHOOK_AUTH", "sms-webhook-auth", "", "Authorization header value sent to the SMS webhook", str(func(c *Config) *string { return &c.Webhook.Authorization })},
		{"PARTNERGATE_SHUTDOWN_TIMEOUT", "shutdown-timeout", "20s", "how long SIGTERM waits for calls in flight", dur(func(c *Config) *time.Duration { return &c.Shutdown })},
		{"PARTNERGATE_SESSION_IDLE", "session-idle", "336h", "session idle timeout (sliding)", dur(func(c *Config) *time.Duration { return &c.SessionIdle })},
		{"PARTNERGATE_CAPTCHA", "captcha", "none", "captcha checked on seed 002's guarded endpoints: none, recaptcha, turnstile or geetest", str(func(c *Config) *string { return &c.Captcha.Kind })},
		{"PARTNERGATE_CAPTCHA_SECRET", "captcha-secret", "", "reCAPTCHA or Turnstile secret key, or GeeTest private key", str(func(c *Config) *string { return &c.Captcha.Secret })},
		{"PARTNERGATE_CAPTCHA_SITE_KEY", "captcha-site-key", "", "public site key (GeeTest: captcha id), reported by identity.configs as captcha_id", str(func(c *Config) *string { return &c.Captcha.SiteKey })},
		{"PARTNERGATE_CAPTCHA_VERIFY_URL", "captcha-verify-url", "", "verify URL (GeeTest: API base); unset: the provider's own", str(func(c *Config) *string { return &c.Captcha.VerifyURL })},
		{"PARTNERGATE_CAPTCHA_TIMEOUT", "captcha-timeout", "5s", "longest wait for the captcha verifier; past it the call is refused (2103)", dur(func(c *Config) *time.Duration { return &c.Captcha.Timeout })},
		{"PARTNERGATE_CAPTCHA_ENDPOINTS", "captcha-endpoints", strings.Join(captcha.DefaultEndpoints, ","), "comma-separated endpoints that need a captcha: user_create, session_create, password_reset, email_confirmation", func(c *Config, v string) error {
			c.Captcha.Endpoints = []string{}
			for _, e := range strings.Split(v, ",") {
				if e = strings.TrimSpace(e); e != "" {
					c.Captcha.Endpoints = append(c.Captcha.Endpoints, e)
				}
			}
			return nil
		}},
		{"PARTNERGATE_FILES", "files", "fs", "where uploaded files live: fs (a directory) or s3 (an S3-compatible bucket)", str(func(c *Config) *string { return &c.Files.Backend })},
		{"PARTNERGATE_FILES_DIR", "files-dir", "", "the fs backend's directory; default DATA_DIR/files", str(func(c *Config) *string { return &c.Files.Dir })},
		{"PARTNERGATE_FILES_MAX_SIZE", "files-max-size", strconv.FormatInt(files.DefaultPolicy.MaxSize, 10), "largest uploaded file, bytes (decoded); its base64 must fit PARTNERGATE_MAX_BODY", func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				return fmt.Errorf("want bytes ≥ 1, got %q", v)
			}
			c.Files.Policy.MaxSize = n
			return nil
		}},
		{"PARTNERGATE_FILES_MAX_PER_USER", "files-max-per-user", strconv.Itoa(files.DefaultPolicy.MaxPerUser), "most files.create uploads one user holds", num(func(c *Config) *int { return &c.Files.Policy.MaxPerUser }, 1)},
		{"PARTNERGATE_DOCUMENTS_MAX_PER_USER", "documents-max-per-user", "10", "most KYC documents (resource.documents.create) one user holds", num(func(c *Config) *int { return &c.Files.MaxDocuments }, 1)},
		{"PARTNERGATE_DATA_STORAGE_TITLES", "data-storage-titles", "", "comma-separated titles resource.data_storage.create accepts; unset: any well-formed title", func(c *Config, v string) error {
			c.Files.StorageTitles = nil
			for _, t := range strings.Split(v, ",") {
				if t = strings.TrimSpace(t); t != "" {
					c.Files.StorageTitles = append(c.Files.StorageTitles, t)
				}
			}
			return nil
		}},
		{"PARTNERGATE_MAX_LABELS", "max-labels", strconv.Itoa(kyc.DefaultLimits.PublicLabels), "most public labels a user may create (resource.labels.create)", num(func(c *Config) *int { return &c.KYCLimits.PublicLabels }, 1)},
		{"PARTNERGATE_MAX_PHONES", "max-phones", strconv.Itoa(kyc.DefaultLimits.Phones), "most phone numbers a user may add (resource.phones.create)", num(func(c *Config) *int { return &c.KYCLimits.Phones }, 1)},
		{"PARTNERGATE_API_KEYS_MAX_PER_USER", "api-keys-max-per-user", "10", "most user API keys (resource.api_keys.create) one user holds", num(func(c *Config) *int { return &c.MaxAPIKeys }, 1)},
		{"PARTNERGATE_S3_ENDPOINT", "s3-endpoint", "", "S3-compatible endpoint, host:port or https://host (http:// only on a private network)", str(func(c *Config) *string { return &c.Files.S3.Endpoint })},
		{"PARTNERGATE_S3_BUCKET", "s3-bucket", "", "the bucket; must exist and must not be public", str(func(c *Config) *string { return &c.Files.S3.Bucket })},
		{"PARTNERGATE_S3_REGION", "s3-region", "us-east-1", "the bucket's region", str(func(c *Config) *string { return &c.Files.S3.Region })},
		{"PARTNERGATE_S3_ACCESS_KEY", "s3-access-key", "", "S3 access key id", str(func(c *Config) *string { return &c.Files.S3.AccessKey })},
		{"PARTNERGATE_S3_SECRET_KEY", "s3-secret-key", "", "S3 secret key", str(func(c *Config) *string { return &c.Files.S3.SecretKey })},
		{"PARTNERGATE_S3_PREFIX", "s3-prefix", "", "put before every object name, ending in /", str(func(c *Config) *string { return &c.Files.S3.Prefix })},
		{"PARTNERGATE_S3_PATH_STYLE", "s3-path-style", "false", "address the bucket in the path (most self-hosted servers)", func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			c.Files.S3.PathStyle = b
			return err
		}},
		{"PARTNERGATE_SESSION_ABSOLUTE", "session-absolute", "720h", "session absolute lifetime", dur(func(c *Config) *time.Duration { return &c.SessionAbsolute })},
		{"PARTNERGATE_TOTP_ISSUER", "totp-issuer", "partnergate", "the service's name in authenticator apps (the otpauth issuer): 1 to 64 printable characters, no colon", func(c *Config, v string) error {
			if !validIssuer(v) {
				return fmt.Errorf("want 1 to 64 printable characters without a colon, got %q", v)
			}
			c.TOTPIssuer = v
			return nil
		}},
	}
}

// LoadConfig reads the environment, then flags from args.
func LoadConfig(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, error) {
	c := Config{Rates: map[string]access.Rate{}}
	for k, v := range access.DefaultRates {
		c.Rates[k] = v
	}
	var errs []error
	for _, s := range settings() {
		v := s.def
		if e := getenv(s.env); e != "" {
			v = e
		}
		if v != "" || s.def == "" {
			if err := s.set(&c, v); err != nil && v != "" {
				errs = append(errs, fmt.Errorf("%s: %w", s.env, err))
			}
		}
		usage := s.doc + " (env " + s.env + ")"
		if s.def == "false" {
			fs.BoolFunc(s.flag, usage, func(v string) error { return s.set(&c, v) })
		} else {
			fs.Func(s.flag, usage, func(v string) error { return s.set(&c, v) })
		}
	}
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// Validate checks settings that depend on each other.
func (c *Config) Validate() error {
	if c.JWTAlg != "" && c.JWTAlg != "EdDSA" && c.JWTAlg != "ES256" {
		return errors.New("PARTNERGATE_JWT_ALG must be EdDSA or ES256")
	}
	if c.SessionAbsolute < c.SessionIdle {
		return errors.New("PARTNERGATE_SESSION_ABSOLUTE must be at least PARTNERGATE_SESSION_IDLE")
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return errors.New("DATABASE_URL must be a postgres:// or postgresql:// URL (unset it for embedded SQLite)")
	}
	// Outside embedded mode several processes share one store: a key file
	// generated per host would seal secrets the other hosts cannot open.
	if c.DatabaseURL != "" && c.SecretKey == "" && c.SecretKeyFile == "" {
		return errors.New("with DATABASE_URL set, PARTNERGATE_SECRET_KEY or PARTNERGATE_SECRET_KEY_FILE is required (the same keys on every process)")
	}
	if c.Dev {
		host, _, err := net.SplitHostPort(c.Addr)
		if err != nil {
			return fmt.Errorf("PARTNERGATE_ADDR: %w", err)
		}
		if !isLoopback(host) {
			return fmt.Errorf("--dev is refused unless listening on loopback, and %s is not", c.Addr)
		}
	}
	if _, err := captcha.New(c.Captcha); err != nil {
		return fmt.Errorf("PARTNERGATE_CAPTCHA: %w", err)
	}
	switch c.Files.Backend {
	case "", "fs":
	case "s3":
		if c.Files.S3.Endpoint == "" || c.Files.S3.Bucket == "" {
			return errors.New("PARTNERGATE_FILES=s3 needs PARTNERGATE_S3_ENDPOINT and PARTNERGATE_S3_BUCKET")
		}
	default:
		return errors.New("PARTNERGATE_FILES must be fs or s3")
	}
	if c.Files.Policy.MaxSize > 0 && c.Limits.MaxBody > 0 {
		if err := c.Files.Policy.Validate(c.Limits.MaxBody); err != nil {
			return fmt.Errorf("PARTNERGATE_FILES_MAX_SIZE: %w", err)
		}
	}
	if c.PprofAddr != "" {
		host, _, err := net.SplitHostPort(c.PprofAddr)
		if err != nil || !isLoopback(host) {
			return fmt.Errorf("PARTNERGATE_PPROF_ADDR must be a loopback address, got %q", c.PprofAddr)
		}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// keyFile is where the keys are read from when PARTNERGATE_SECRET_KEY is unset.
func (c *Config) keyFile() string {
	if c.SecretKeyFile != "" {
		return c.SecretKeyFile
	}
	return filepath.Join(c.DataDir, "secret.key")
}

// filesDir is the fs backend's directory.
func (c *Config) filesDir() string {
	if c.Files.Dir != "" {
		return c.Files.Dir
	}
	return filepath.Join(c.DataDir, "files")
}

// dsn is the SQL store's address: Postgres when configured, else the file.
func (c *Config) dsn() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return filepath.Join(c.DataDir, "partnergate.db")
}

// validIssuer is an otpauth issuer: printable, no colon (the label's
// separator), at most 64 characters.
func validIssuer(v string) bool {
	if v == "" || utf8.RuneCountInString(v) > 64 || !utf8.ValidString(v) {
		return false
	}
	for _, r := range v {
		if r == ':' || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
