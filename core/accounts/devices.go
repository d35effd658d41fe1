package accounts

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"partnergate/core"
	"partnergate/core/fault"
	"partnergate/store"
)

// Device limits (docs/api.md, DeviceInfo).
const (
	MaxDeviceID    = 64
	MaxDeviceName  = 64
	MaxDeviceModel = 64
	// MinFCMToken and MaxFCMToken bound an FCM registration token; an
	// APNS device token is exactly 64 hex digits.
	MinFCMToken = 100
	MaxFCMToken = 512
)

// Push token kinds, the prefix of store.Device.PushToken.
const (
	PushAPNS = "apns"
	PushFCM  = "fcm"
)

// ParseDevice checks what a client says about its device and returns it
// as stored, or fault.Invalid naming the field (deviceId, deviceName,
// deviceModel, deviceToken). The id is the client's own: 1 to 64 ASCII
// letters, digits, '-', '_', '.' or ':' (a UUID fits); name and model are
// at most 64 characters without control characters; the push token is
// optional (ParsePushToken).
func ParseDevice(id, name, model, pushToken string) (store.Device, error) {
	if id == "" {
		return store.Device{}, fault.Field(fault.Invalid, "deviceId", "required")
	}
	if len(id) > MaxDeviceID || strings.IndexFunc(id, func(r rune) bool {
		return !(r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_.:", r)))
	}) >= 0 {
		return store.Device{}, fault.Field(fault.Invalid, "deviceId", "1 to 64 ASCII letters, digits, '-', '_', '.' or ':'")
	}
	if err := checkLabel("deviceName", name, MaxDeviceName); err != nil {
		return store.Device{}, err
	}
	if err := checkLabel("deviceModel", model, MaxDeviceModel); err != nil {
		return store.Device{}, err
	}
	pt, err := ParsePushToken(pushToken)
	if err != nil {
		return store.Device{}, err
	}
	return store.Device{ID: id, Name: name, Model: model, PushToken: pt}, nil
}

// checkLabel refuses a display string that is too long, not UTF-8 or holds
// control or invisible formatting characters.
func checkLabel(field, s string, maxRunes int) error {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxRunes {
		return fault.Field(fault.Invalid, field, "at most "+strconv.Itoa(maxRunes)+" characters")
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0 {
		return fault.Field(fault.Invalid, field, "control or invisible characters")
	}
	return nil
}

// ParsePushToken reads a device's push token: an APNS device token (64 hex
// digits, stored lower-case as "apns:…") or an FCM registration token (100
// to 512 characters of A–Z, a–z, 0–9, '-', '_' with at most one ':' inside,
// stored as "fcm:…"). "" is no token. Anything else is fault.Invalid on
// deviceToken; the token itself is never put in the error or a log.
func ParsePushToken(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if len(s) == 64 && isHex(s) {
		return PushAPNS + ":" + strings.ToLower(s), nil
	}
	if len(s) >= MinFCMToken && len(s) <= MaxFCMToken && fcmChars(s) {
		return PushFCM + ":" + s, nil
	}
	return "", fault.Field(fault.Invalid, "deviceToken", "an APNS device token (64 hex digits) or an FCM registration token")
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func fcmChars(s string) bool {
	colons := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '-', c == '_':
		case c == ':' && i > 0 && i < len(s)-1:
			colons++
		default:
			return false
		}
	}
	return colons <= 1
}

// PushKind returns the kind of a stored push token ("apns", "fcm" or "").
func PushKind(stored string) string {
	kind, _, _ := strings.Cut(stored, ":")
	if stored == "" {
		return ""
	}
	return kind
}

// NewDeviceSession starts a session for userID on device d (from
// ParseDevice). The device's earlier session, if any, ends: one session
// per (user, device), so logging in again from a phone replaces the
// phone's session and leaves the user's other devices signed in.
func (s *Service) NewDeviceSession(ctx context.Context, userID string, d store.Device) (Session, error) {
	if d.ID == "" {
		return Session{}, fault.Field(fault.Invalid, "deviceId", "required")
	}
	c := core.CallFrom(ctx)
	return s.newSession(ctx, userID, c.IP, c.UserAgent, d)
}

// DeviceSessions lists the user's live device sessions, oldest first,
// without sliding them. Sessions opened by dialects without devices are
// not among them.
func (s *Service) DeviceSessions(ctx context.Context, userID string) ([]store.Session, error) {
	all, err := s.KV.UserSessions(ctx, userID)
	if err != nil {
		return nil, core.StoreError("accounts: list sessions", err)
	}
	out := make([]store.Session, 0, len(all))
	for _, ss := range all {
		if ss.Device.ID != "" {
			out = append(out, ss)
		}
	}
	return out, nil
}

// EndDeviceSession ends the user's session on deviceID: a lost phone is
// cut off without a password change. fault.NotFound when the user has no
// live session on that device (another user's devices are never found).
func (s *Service) EndDeviceSession(ctx context.Context, userID, deviceID string) error {
	list, err := s.DeviceSessions(ctx, userID)
	if err != nil {
		return err
	}
	for _, ss := range list {
		if ss.Device.ID == deviceID {
			if err := s.EndSession(ctx, ss.TokenHash); err != nil {
				return err
			}
			s.audit(ctx, "session.device_revoked", userID)
			return nil
		}
	}
	return fault.New(fault.NotFound)
}

// CurrentSession returns the caller's session by its token hash, or
// fault.SessionInvalid.
func (s *Service) CurrentSession(ctx context.Context, tokenHash string) (store.Session, error) {
	ks, err := s.KV.Session(ctx, tokenHash, s.Sessions.Idle)
	if errors.Is(err, store.ErrNotFound) {
		return store.Session{}, fault.New(fault.SessionInvalid)
	}
	if err != nil {
		return store.Session{}, core.StoreError("accounts: read session", err)
	}
	return ks, nil
}

// UpdateDevice changes the name and push token of the device the session
// tokenHash belongs to (nil leaves one as it is; "" clears the token). The
// token is checked with ParsePushToken first, so a refusal changes nothing.
// fault.NotFound when the session is not a device session.
func (s *Service) UpdateDevice(ctx context.Context, userID, tokenHash string, name, pushToken *string) (store.Session, error) {
	var pt string
	if name != nil {
		if err := checkLabel("deviceName", *name, MaxDeviceName); err != nil {
			return store.Session{}, err
		}
	}
	if pushToken != nil {
		var err error
		if pt, err = ParsePushToken(*pushToken); err != nil {
			return store.Session{}, err
		}
	}
	cur, err := s.CurrentSession(ctx, tokenHash)
	if err != nil {
		return store.Session{}, err
	}
	if cur.UserID != userID || cur.Device.ID == "" {
		return store.Session{}, fault.Errorf(fault.NotFound, "This session is not a device session.")
	}
	ss, err := s.KV.UpdateSessionDevice(ctx, tokenHash, func(d store.Device) (store.Device, error) {
		if name != nil {
			d.Name = *name
		}
		if pushToken != nil {
			d.PushToken = pt
		}
		return d, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return store.Session{}, fault.New(fault.SessionInvalid)
	}
	if err != nil {
		return store.Session{}, core.StoreError("accounts: update device", err)
	}
	s.audit(ctx, "session.device_updated", userID)
	return ss, nil
}
