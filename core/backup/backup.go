// Package backup is the domain core of seed 000's user.data.backup: it
// gathers everything stored about a user into a zip of JSON files, encrypts
// it with the password the user chose (age, scrypt recipient), keeps it for
// one download and has a link to it delivered. GET /backup/{token} serves
// the download; the token is 128 random bits, stored only as its SHA-256,
// valid 24 hours and spent by the first download.
package backup

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"filippo.io/age"
	"github.com/rs/zerolog"

	"partnergate/core"
	"partnergate/core/fault"
	"partnergate/store"
)

// Notifier delivers the download link, through the outbox in production.
type Notifier interface {
	BackupReady(ctx context.Context, userID, link string, expires time.Time) error
}

// Store is what a backup reads and keeps.
type Store interface {
	UserByID(ctx context.Context, id string) (store.User, error)
	Profile(ctx context.Context, userID string) (store.Profile, error)
	store.ProductStore
	store.TrackingStore
	store.BlockStore
	store.BackupStore
}

// Source adds one file to every archive, for data other packages keep
// (settings, activity). Name is the file name in the archive, such as
// "settings.json"; Load's result is written as indented JSON.
type Source struct {
	Name string
	Load func(ctx context.Context, userID string) (any, error)
}

// Defaults, documented in docs/api.md.
const (
	MinPassword       = 6
	DefaultTTL        = 24 * time.Hour
	DefaultWorkFactor = 16 // scrypt N = 2^16: 64 MiB and about 0.2 s per build
	DefaultCooldown   = 10 * time.Minute
	DefaultSlots      = 2
)

// PasswordMessage is the seed's message for a missing or short password.
const PasswordMessage = "No password or less than 6 characters."

// tokenPrefix marks download tokens; 22 base64url characters carry 128
// random bits.
const tokenPrefix = "pgb_"

// Service builds, keeps and serves backups. Zero fields take the defaults
// above.
type Service struct {
	Store  Store
	Notify Notifier
	// KV, when set, limits each user to one backup per Cooldown (bursts of
	// two, so a lost link can be replaced at once).
	KV store.Limits
	// BaseURL returns the public base URL links are built on, e.g.
	// "https://id.example.com"; never the request's Host header.
	BaseURL    func() string
	TTL        time.Duration
	Cooldown   time.Duration
	WorkFactor int // scrypt log2(N); tests use ~10
	// Slots bounds concurrent builds: scrypt takes 2^WorkFactor KiB.
	Slots   int
	Sources []Source
	Now     func() time.Time
	Log     zerolog.Logger

	once sync.Once
	sem  chan struct{}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) slots() chan struct{} {
	s.once.Do(func() {
		n := s.Slots
		if n <= 0 {
			n = DefaultSlots
		}
		s.sem = make(chan struct{}, n)
	})
	return s.sem
}

// HashToken is how a download token is stored: SHA-256, hex.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Request builds the user's archive, encrypts it with password, stores it
// and has the link delivered. fault.Invalid (the seed's message) for a
// password under 6 characters; fault.Throttled within the cooldown or when
// no build slot frees in time; fault.NotFound when the user is gone. A new
// backup replaces a pending one, whose link stops working.
func (s *Service) Request(ctx context.Context, userID, password string) error {
	if utf8.RuneCountInString(password) < MinPassword {
		return &fault.Error{Code: fault.Invalid, Message: PasswordMessage,
			Fields: map[string]string{"password": "at least 6 characters"}}
	}
	base := ""
	if s.BaseURL != nil {
		base = strings.TrimRight(s.BaseURL(), "/")
	}
	if base == "" {
		return errors.New("backup: no public base URL configured for links")
	}
	if s.Notify == nil {
		return errors.New("backup: no Notifier configured to deliver links")
	}
	if s.KV != nil {
		cooldown := s.Cooldown
		if cooldown <= 0 {
			cooldown = DefaultCooldown
		}
		ok, retry, err := s.KV.Allow(ctx, "backup:{u:"+userID+"}", 1, cooldown, 2)
		if err != nil {
			return core.StoreError("backup: cooldown", err)
		}
		if !ok {
			return fault.Throttle(retry)
		}
	}
	sem := s.slots()
	select {
	case sem <- struct{}{}:
		defer func() { <-sem }()
	case <-time.After(2 * time.Second):
		return fault.Throttle(5 * time.Second)
	case <-ctx.Done():
		return ctx.Err()
	}

	now := s.now().UTC().Truncate(time.Microsecond)
	plain, err := s.archive(ctx, userID, now)
	if err != nil {
		return err
	}
	wf := s.WorkFactor
	if wf <= 0 {
		wf = DefaultWorkFactor
	}
	sealed, err := Encrypt(plain, password, wf)
	if err != nil {
		return err
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Errorf("backup: token: %w", err)
	}
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	ttl := s.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	bk := store.Backup{TokenHash: HashToken(token), UserID: userID, Created: now, Expires: now.Add(ttl), Archive: sealed}
	if err := s.Store.PutBackup(ctx, bk); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fault.New(fault.NotFound)
		}
		return core.StoreError("backup: store backup", err)
	}
	if err := s.Notify.BackupReady(ctx, userID, base+"/backup/"+token, bk.Expires); err != nil {
		// Nobody could download it: drop it rather than keep it 24 hours.
		if derr := s.Store.DeleteUserBackups(context.WithoutCancel(ctx), userID); derr != nil {
			s.Log.Error().Err(derr).Str("user", userID).Msg("backup: drop undeliverable backup")
		}
		return err
	}
	s.Log.Info().Str("event", "backup.requested").Str("user", userID).Int("bytes", len(sealed)).Msg("audit")
	return nil
}

// Encrypt seals plain for password with age's scrypt recipient at work
// factor 2^workFactor.
func Encrypt(plain []byte, password string, workFactor int) ([]byte, error) {
	r, err := age.NewScryptRecipient(password)
	if err != nil {
		return nil, fmt.Errorf("backup: recipient: %w", err)
	}
	r.SetWorkFactor(workFactor)
	var out bytes.Buffer
	w, err := age.Encrypt(&out, r)
	if err != nil {
		return nil, fmt.Errorf("backup: encrypt: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return nil, fmt.Errorf("backup: encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("backup: encrypt: %w", err)
	}
	return out.Bytes(), nil
}

// Decrypt opens an archive sealed by Encrypt: the same as
// `age --decrypt` with the password.
func Decrypt(sealed []byte, password string) ([]byte, error) {
	id, err := age.NewScryptIdentity(password)
	if err != nil {
		return nil, fmt.Errorf("backup: identity: %w", err)
	}
	r, err := age.Decrypt(bytes.NewReader(sealed), id)
	if err != nil {
		return nil, fmt.Errorf("backup: decrypt: %w", err)
	}
	var out bytes.Buffer
	if _, err := out.ReadFrom(r); err != nil {
		return nil, fmt.Errorf("backup: decrypt: %w", err)
	}
	return out.Bytes(), nil
}

// Take spends a download token: it returns the backup and deletes it, so
// a second take finds nothing. fault.NotFound for an unknown, malformed,
// used or expired token.
func (s *Service) Take(ctx context.Context, token string) (store.Backup, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) != len(tokenPrefix)+22 {
		return store.Backup{}, fault.New(fault.NotFound)
	}
	b, err := s.Store.TakeBackup(ctx, HashToken(token), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return store.Backup{}, fault.New(fault.NotFound)
	}
	if err != nil {
		return store.Backup{}, core.StoreError("backup: take backup", err)
	}
	return b, nil
}

// ServeHTTP serves GET /backup/{token}: the archive once, then 404. HEAD
// is refused without spending the token, so a link checker that only
// peeks does not use it up.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if r.Method != http.MethodGet {
		h.Set("Allow", http.MethodGet)
		writeJSON(w, http.StatusMethodNotAllowed, `{"error":"method not allowed"}`)
		return
	}
	b, err := s.Take(r.Context(), r.PathValue("token"))
	if err != nil {
		if fault.CodeOf(err) == fault.NotFound {
			writeJSON(w, http.StatusNotFound, `{"error":"backup not found, expired or already downloaded"}`)
			return
		}
		s.Log.Error().Err(err).Msg("backup: download")
		writeJSON(w, http.StatusServiceUnavailable, `{"error":"service temporarily unavailable, retry later"}`)
		return
	}
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="partnergate-backup-`+b.Created.Format("20060102-150405")+`.zip.age"`)
	h.Set("Content-Length", strconv.Itoa(len(b.Archive)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Archive)
	s.Log.Info().Str("event", "backup.downloaded").Str("user", b.UserID).Msg("audit")
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
