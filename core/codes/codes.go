// Package codes sends and checks one-time verification codes and issues
// recovery and deletion tokens (SECURITY.md 8-10). Every namespace that
// sends a code calls Send, and every one that checks a code calls Check.
package codes

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"partnergate/core"
	"partnergate/core/fault"
	"partnergate/core/keyring"
	"partnergate/store"
)

// Purposes a code or token is bound to.
const (
	Registration = "registration"
	Recovery     = "recovery"
	Deletion     = "deletion"
	Change       = "change"
	// Phone proves one of seed 002's (Barong's) phones: one live code per
	// user, so a code sent to another of the user's numbers replaces it.
	Phone = "phone"
)

// Policy holds the documented limits.
type Policy struct {
	TTL         time.Duration // code lifetime
	MaxAttempts int           // wrong tries before a code is void
	ResendEvery time.Duration // one send per (purpose, target) per this
	DailyCap    int64         // sends per target per day
	TokenTTL    time.Duration // recovery and deletion tokens
}

// DefaultPolicy is SECURITY.md's.
var DefaultPolicy = Policy{TTL: 10 * time.Minute, MaxAttempts: 5, ResendEvery: 90 * time.Second, DailyCap: 20, TokenTTL: 30 * time.Minute}

// Deliverer queues a message for delivery; the outbox implements it.
type Deliverer interface {
	Deliver(ctx context.Context, channel, to, lang, template string, vars map[string]string) error
}

// State is the short-lived state codes live in: the codes themselves,
// resend holds, daily caps and single-use tokens. It is a union of store's
// interfaces so the contract stays in one place.
type State interface {
	store.Codes
	store.Holds
	store.Counters
	store.Tokens
}

// DecoyDeliverer is a Deliverer that can also store a message exactly as
// Deliver does but mark it never to be sent; the outbox implements it.
type DecoyDeliverer interface {
	DeliverDecoy(ctx context.Context, channel, to, lang, template string, vars map[string]string) error
}

// Service issues and checks codes.
type Service struct {
	KV      State
	Ring    *keyring.Ring
	Deliver Deliverer
	Policy  Policy
	// Now is the clock the daily cap's days follow; nil means time.Now.
	Now func() time.Time
}

// Target is where a code goes and what it proves: a channel ("email" or
// "phone"), the normalised address, and the account it belongs to.
type Target struct {
	UserID  string
	Channel string
	Address string
	Lang    string
}

func (t Target) slot(purpose string) string {
	return purpose + ":{" + t.UserID + "}:" + t.Channel
}

func (s *Service) mac(purpose string, t Target, code string) string {
	return s.Ring.MAC("code", []byte(purpose+"|"+t.UserID+"|"+t.Channel+"|"+t.Address+"|"+code))
}

// Send makes a new code for purpose and target, replacing any earlier one,
// and queues it for delivery. At most one send per (purpose, address) per
// ResendEvery, refused with fault.Throttled carrying retryAfter; at most
// DailyCap per (purpose, address) a UTC day, refused with retryAfter until
// the day ends.
func (s *Service) Send(ctx context.Context, purpose string, t Target) error {
	return s.send(ctx, purpose, t, false, nil)
}

// SendWith is Send with extra template vars beside the code (a ticket the
// message carries, see Ticket); "code" and "minutes" cannot be replaced.
func (s *Service) SendWith(ctx context.Context, purpose string, t Target, extra map[string]string) error {
	return s.send(ctx, purpose, t, false, extra)
}

// SendDecoyWith is SendDecoy with extra template vars, as SendWith.
func (s *Service) SendDecoyWith(ctx context.Context, purpose string, t Target, extra map[string]string) error {
	return s.send(ctx, purpose, t, true, extra)
}

// SendDecoy does every step of Send for an address no account holds: the
// same hold, the same count against the daily cap, a code stored and a
// message rendered, sealed and written to the outbox, marked never to be
// sent. Only then does a request for an unknown login cost, throttle and
// cap exactly like one for a known login (SECURITY.md 9 and 10).
func (s *Service) SendDecoy(ctx context.Context, purpose string, t Target) error {
	return s.send(ctx, purpose, t, true, nil)
}

// Preparer renders and seals a message as Deliverer would without storing
// it, for a write in the caller's own transaction, and is told once that
// write committed; the outbox implements it.
type Preparer interface {
	PrepareMessage(channel, to, lang, template string, vars map[string]string) (store.Message, error)
	Queued()
}

// Prepare does every step of Send (the resend hold, the daily cap, a code
// stored) but returns the message for the caller to write with its own
// rows (store.NewUser.Messages) instead of queuing it: a registration and
// its code are stored together or not at all. The caller calls sent after
// its write committed, or failed if it did not (the hold is released so
// the address may ask again at once). s.Deliver must implement Preparer.
func (s *Service) Prepare(ctx context.Context, purpose string, t Target) (m store.Message, sent, failed func(), err error) {
	p, ok := s.Deliver.(Preparer)
	if !ok {
		return store.Message{}, nil, nil, errors.New("codes: the deliverer cannot prepare messages")
	}
	hold, vars, err := s.issue(ctx, purpose, t)
	if err != nil {
		return store.Message{}, nil, nil, err
	}
	release := func() { _ = s.KV.Release(context.WithoutCancel(ctx), hold) }
	m, err = p.PrepareMessage(deliveryChannel(t.Channel), t.Address, t.Lang, "code."+purpose, vars)
	if err != nil {
		release()
		return store.Message{}, nil, nil, fmt.Errorf("codes: prepare %s code: %w", purpose, err)
	}
	return m, p.Queued, release, nil
}

func (s *Service) send(ctx context.Context, purpose string, t Target, decoy bool, extra map[string]string) error {
	hold, vars, err := s.issue(ctx, purpose, t)
	if err != nil {
		return err
	}
	for k, v := range extra {
		if _, own := vars[k]; !own {
			vars[k] = v
		}
	}
	if decoy {
		// A decoy's address may be no address at all (a malformed login),
		// which the outbox refuses: that is no reason to answer otherwise.
		if d, ok := s.Deliver.(DecoyDeliverer); ok {
			_ = d.DeliverDecoy(ctx, deliveryChannel(t.Channel), t.Address, t.Lang, "code."+purpose, vars)
		}
		return nil
	}
	if err := s.Deliver.Deliver(ctx, deliveryChannel(t.Channel), t.Address, t.Lang, "code."+purpose, vars); err != nil {
		// The code never left: let the user ask again at once.
		_ = s.KV.Release(ctx, hold)
		return fmt.Errorf("codes: queue %s code: %w", purpose, err)
	}
	return nil
}

// issue takes the resend hold and a place under the daily cap, and stores a
// new code; it returns the hold's name and the message's variables.
func (s *Service) issue(ctx context.Context, purpose string, t Target) (hold string, vars map[string]string, err error) {
	hold, err = s.admitSend(ctx, purpose, t)
	if err != nil {
		return "", nil, err
	}
	code, err := sixDigits()
	if err != nil {
		return "", nil, err
	}
	if err := s.KV.PutCode(ctx, t.slot(purpose), s.mac(purpose, t, code), s.Policy.TTL); err != nil {
		return "", nil, core.StoreError("codes: store code", err)
	}
	return hold, map[string]string{"code": code, "minutes": fmt.Sprint(int(s.Policy.TTL.Minutes()))}, nil
}

// admitSend applies the resend hold and the daily cap of a send and
// returns the hold's name, for releasing it if the message never leaves.
func (s *Service) admitSend(ctx context.Context, purpose string, t Target) (string, error) {
	hold := purpose + ":" + t.Channel + ":" + t.Address
	ok, left, err := s.KV.Hold(ctx, hold, s.Policy.ResendEvery)
	if err != nil {
		return "", core.StoreError("codes: resend hold", err)
	}
	if !ok {
		return "", fault.Throttle(left)
	}
	// Per purpose, so a stranger's recoveries cannot use up the owner's
	// deletion or change codes; per calendar day, so the refusal can say
	// truly when sending works again.
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	day := now().UTC()
	untilTomorrow := day.Truncate(24 * time.Hour).Add(24 * time.Hour).Sub(day)
	n, err := s.KV.Incr(ctx, "daily:"+purpose+":"+t.Channel+":"+t.Address+":"+day.Format("20060102"), untilTomorrow+time.Minute)
	if err != nil {
		return "", core.StoreError("codes: daily cap", err)
	}
	if n > s.Policy.DailyCap {
		return "", fault.Throttle(untilTomorrow)
	}
	return hold, nil
}

func deliveryChannel(channel string) string {
	if channel == store.KindPhone {
		return "sms"
	}
	return "email"
}

// Check consumes the code for purpose and target if it matches. A wrong,
// expired, used or voided code is fault.CodeInvalid; the fifth wrong try
// voids the code.
func (s *Service) Check(ctx context.Context, purpose string, t Target, code string) error {
	if !wellFormed(code) {
		// Still count the try so malformed guesses are not free.
		_, _ = s.KV.CheckCode(ctx, t.slot(purpose), "-", s.Policy.MaxAttempts)
		return fault.New(fault.CodeInvalid)
	}
	res, err := s.KV.CheckCode(ctx, t.slot(purpose), s.mac(purpose, t, code), s.Policy.MaxAttempts)
	if err != nil {
		return core.StoreError("codes: check code", err)
	}
	if res != store.CodeOK {
		return fault.New(fault.CodeInvalid)
	}
	return nil
}

// Matches reports whether code is the live code for purpose and target,
// without consuming it or counting a try. Follow it with Check.
func (s *Service) Matches(ctx context.Context, purpose string, t Target, code string) (bool, error) {
	if !wellFormed(code) {
		return false, nil
	}
	ok, err := s.KV.MatchCode(ctx, t.slot(purpose), s.mac(purpose, t, code))
	if err != nil {
		return false, core.StoreError("codes: match code", err)
	}
	return ok, nil
}

// Pending reports whether a live code exists for purpose and target.
func (s *Service) Pending(ctx context.Context, purpose string, t Target) (bool, error) {
	ok, err := s.KV.HasCode(ctx, t.slot(purpose))
	if err != nil {
		return false, core.StoreError("codes: pending code", err)
	}
	return ok, nil
}

func wellFormed(code string) bool {
	if len(code) != 6 {
		return false
	}
	for i := 0; i < 6; i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

func sixDigits() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("codes: random: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// Ticket is what a recovery or deletion token stands for.
type Ticket struct {
	Target Target `json:"target"`
	// Decoy tickets answer an unknown login exactly like a real one and
	// never verify.
	Decoy bool `json:"decoy,omitempty"`
	// Link marks a token that was sent to the target (SendLink) rather
	// than handed to the caller: holding it proves the address.
	Link bool `json:"link,omitempty"`
}

// SendLink makes a token for tk (marked Link) and sends link(token) to
// tk.Target with template "link."+purpose (vars "link" and "minutes", the
// token's validity), under the same resend hold and daily cap as codes. A
// decoy ticket does every step but the sending (DeliverDecoy). The token
// is never returned: only the message carries it.
func (s *Service) SendLink(ctx context.Context, purpose string, tk Ticket, link func(token string) string) error {
	t := tk.Target
	hold, err := s.admitSend(ctx, purpose, t)
	if err != nil {
		return err
	}
	tk.Link = true
	token, err := s.NewToken(ctx, purpose, tk)
	if err != nil {
		return err
	}
	vars := map[string]string{"link": link(token), "minutes": fmt.Sprint(int(s.Policy.TokenTTL.Minutes()))}
	if tk.Decoy {
		if d, ok := s.Deliver.(DecoyDeliverer); ok {
			_ = d.DeliverDecoy(ctx, deliveryChannel(t.Channel), t.Address, t.Lang, "link."+purpose, vars)
		}
		return nil
	}
	if err := s.Deliver.Deliver(ctx, deliveryChannel(t.Channel), t.Address, t.Lang, "link."+purpose, vars); err != nil {
		_ = s.KV.Release(ctx, hold)
		return fmt.Errorf("codes: queue %s link: %w", purpose, err)
	}
	return nil
}

// NewToken returns a fresh token of 192 random bits for purpose; only its
// SHA-256 is stored, for TokenTTL.
func (s *Service) NewToken(ctx context.Context, purpose string, tk Ticket) (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("codes: token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	v, err := json.Marshal(tk)
	if err != nil {
		return "", fmt.Errorf("codes: token: %w", err)
	}
	if err := s.KV.PutToken(ctx, purpose, hashToken(token), v, s.Policy.TokenTTL); err != nil {
		return "", core.StoreError("codes: store token", err)
	}
	return token, nil
}

// Ticket returns a live token's ticket without consuming it, or
// fault.NotFound.
func (s *Service) Ticket(ctx context.Context, purpose, token string) (Ticket, error) {
	v, err := s.KV.PeekToken(ctx, purpose, hashToken(token))
	return decodeTicket(v, err)
}

// TakeTicket consumes a token: of concurrent takes one succeeds.
func (s *Service) TakeTicket(ctx context.Context, purpose, token string) (Ticket, error) {
	v, err := s.KV.TakeToken(ctx, purpose, hashToken(token))
	return decodeTicket(v, err)
}

func decodeTicket(v []byte, err error) (Ticket, error) {
	if errors.Is(err, store.ErrNotFound) {
		return Ticket{}, fault.New(fault.NotFound)
	}
	if err != nil {
		return Ticket{}, core.StoreError("codes: read token", err)
	}
	var tk Ticket
	if err := json.Unmarshal(v, &tk); err != nil {
		return Ticket{}, fmt.Errorf("codes: decode token: %w", err)
	}
	return tk, nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
