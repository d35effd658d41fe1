package backup

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"partnergate/core"
	"partnergate/core/fault"
	"partnergate/store"
)

// Format names the archive layout, written to manifest.json.
const Format = "partnergate-backup/1"

// The archive's files. Each is indented JSON; manifest.json lists them.
const (
	FileManifest     = "manifest.json"
	FileProfile      = "profile.json"
	FileIdentifiers  = "identifiers.json"
	FileProducts     = "products.json"
	FileConsents     = "product_consents.json"
	FileTracking     = "tracking_events.json"
	FilePushDevices  = "push_devices.json"
	FileBlocks       = "blocks.json"
	sourceNameFormat = `^[a-z0-9][a-z0-9_.-]{0,62}\.json$`
)

var sourceName = regexp.MustCompile(sourceNameFormat)

// Manifest is manifest.json.
type Manifest struct {
	Format  string    `json:"format"`
	UserID  string    `json:"user_id"`
	Created time.Time `json:"created"`
	Files   []string  `json:"files"`
}

// Profile is profile.json: the user record. Credentials are not exported:
// a password hash is no data about the user and only helps an attacker.
type Profile struct {
	ID                    string    `json:"id"`
	Created               time.Time `json:"created"`
	Updated               time.Time `json:"updated"`
	State                 string    `json:"state"`
	Role                  string    `json:"role"`
	IsNew                 bool      `json:"is_new"`
	FirstName             string    `json:"first_name"`
	LastName              string    `json:"last_name"`
	CompanyName           string    `json:"company_name"`
	CompanyTitle          string    `json:"company_title"`
	Birthday              string    `json:"birthday"`
	Hometown              string    `json:"hometown"`
	Education             string    `json:"education"`
	ZipCode               string    `json:"zip_code"`
	Description           string    `json:"description"`
	LinkURL               string    `json:"link_url"`
	PrivacyMode           int       `json:"privacy_mode"`
	Avatar                string    `json:"avatar"`
	Avatar3D              string    `json:"avatar3d"`
	Params                string    `json:"params"`
	IdentityType          int       `json:"identity_type"`
	IdentityName          string    `json:"identity_name"`
	ZAddress              string    `json:"z_address"`
	PublicRoomCount       int       `json:"public_room_count"`
	ContactCount          int       `json:"contact_count"`
	PendingContactCount   int       `json:"pending_contact_count"`
	NewInvitationsCount   int       `json:"new_invitations_count"`
	PendingRequestCount   int       `json:"pending_request_count"`
	NewNotificationsCount int       `json:"new_notifications_count"`
	IdealMatchCount       int       `json:"ideal_match_count"`
	Sex                   int       `json:"sex"`
	News                  bool      `json:"news"`
	Restrictions          [5]bool   `json:"restrictions"` // restriction_1..restriction_5
	Lang                  string    `json:"lang"`
	DatingModel           string    `json:"dating.model"`
}

// Identifier is one entry of identifiers.json.
type Identifier struct {
	Kind     string `json:"kind"`
	Value    string `json:"value"`
	Verified bool   `json:"verified"`
}

// ActiveProduct is one entry of products.json.
type ActiveProduct struct {
	ProductID string    `json:"product_id"`
	Activated time.Time `json:"activated"`
}

// Consent is one entry of product_consents.json.
type Consent struct {
	ProductID string    `json:"product_id"`
	Action    string    `json:"action"`
	At        time.Time `json:"at"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"user_agent"`
}

// TrackingEvent is one entry of tracking_events.json; Data holds the
// attributes as sent (validated).
type TrackingEvent struct {
	At        time.Time       `json:"at"`
	IP        string          `json:"ip"`
	UserAgent string          `json:"user_agent"`
	Data      json.RawMessage `json:"data"`
}

// PushDevice is one entry of push_devices.json.
type PushDevice struct {
	DeviceID string    `json:"device_id"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}

// Block is one entry of blocks.json: a user this user blocked.
type Block struct {
	BlockedID string    `json:"blocked_id"`
	Reason    int       `json:"reason"`
	Created   time.Time `json:"created"`
}

// archive gathers the user's data into a zip of JSON files.
func (s *Service) archive(ctx context.Context, userID string, now time.Time) ([]byte, error) {
	u, err := s.Store.UserByID(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.New(fault.NotFound)
	}
	if err != nil {
		return nil, core.StoreError("backup: read user", err)
	}
	p, err := s.Store.Profile(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.New(fault.NotFound)
	}
	if err != nil {
		return nil, core.StoreError("backup: read profile", err)
	}
	files := []struct {
		name string
		load func() (any, error)
	}{
		{FileProfile, func() (any, error) { return profileOf(u, p), nil }},
		{FileIdentifiers, func() (any, error) {
			out := []Identifier{}
			for _, id := range u.Identifiers {
				out = append(out, Identifier{Kind: id.Kind, Value: id.Value, Verified: id.Verified})
			}
			return out, nil
		}},
		{FileProducts, func() (any, error) {
			ps, err := s.Store.UserProducts(ctx, userID)
			out := make([]ActiveProduct, len(ps))
			for i, p := range ps {
				out[i] = ActiveProduct{ProductID: p.ProductID, Activated: p.Activated}
			}
			return out, err
		}},
		{FileConsents, func() (any, error) {
			cs, err := s.Store.ProductConsents(ctx, userID)
			out := make([]Consent, len(cs))
			for i, c := range cs {
				out[i] = Consent{ProductID: c.ProductID, Action: c.Action, At: c.At, IP: c.IP, UserAgent: c.UserAgent}
			}
			return out, err
		}},
		{FileTracking, func() (any, error) {
			es, err := s.Store.TrackingEvents(ctx, userID, 0)
			out := make([]TrackingEvent, len(es))
			for i, e := range es {
				data := json.RawMessage(e.Data)
				if !json.Valid(data) {
					data = json.RawMessage("null")
				}
				out[i] = TrackingEvent{At: e.At, IP: e.IP, UserAgent: e.UserAgent, Data: data}
			}
			return out, err
		}},
		{FilePushDevices, func() (any, error) {
			ds, err := s.Store.PushDevices(ctx, userID)
			out := make([]PushDevice, len(ds))
			for i, d := range ds {
				out[i] = PushDevice{DeviceID: d.DeviceID, Created: d.Created, Updated: d.Updated}
			}
			return out, err
		}},
		{FileBlocks, func() (any, error) {
			bs, err := s.Store.BlocksBy(ctx, userID)
			out := make([]Block, len(bs))
			for i, b := range bs {
				out[i] = Block{BlockedID: b.BlockedID, Reason: b.Reason, Created: b.Created}
			}
			return out, err
		}},
	}
	for _, src := range s.Sources {
		if !sourceName.MatchString(src.Name) || src.Name == FileManifest {
			return nil, fmt.Errorf("backup: source name %q: want a lower-case name ending in .json", src.Name)
		}
		files = append(files, struct {
			name string
			load func() (any, error)
		}{src.Name, func() (any, error) { return src.Load(ctx, userID) }})
	}

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	manifest := Manifest{Format: Format, UserID: userID, Created: now}
	add := func(name string, v any) error {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Errorf("backup: encode %s: %w", name, err)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: now})
		if err != nil {
			return fmt.Errorf("backup: zip %s: %w", name, err)
		}
		_, err = w.Write(append(b, '\n'))
		return err
	}
	seen := map[string]bool{}
	for _, f := range files {
		if seen[f.name] {
			return nil, fmt.Errorf("backup: two files named %s", f.name)
		}
		seen[f.name] = true
		v, err := f.load()
		if err != nil {
			return nil, core.StoreError("backup: read "+f.name, err)
		}
		if err := add(f.name, v); err != nil {
			return nil, err
		}
		manifest.Files = append(manifest.Files, f.name)
	}
	if err := add(FileManifest, manifest); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("backup: zip: %w", err)
	}
	return buf.Bytes(), nil
}

// profileOf is profile.json: the account and its profile in one object,
// as archives have always had it.
func profileOf(u store.User, p store.Profile) Profile {
	return Profile{
		ID: u.ID, Created: u.Created, Updated: u.Updated, State: u.State, Role: u.Role, IsNew: u.IsNew,
		FirstName: p.FirstName, LastName: p.LastName, CompanyName: p.CompanyName, CompanyTitle: p.CompanyTitle,
		Birthday: p.Birthday, Hometown: p.Hometown, Education: p.Education, ZipCode: p.ZipCode,
		Description: p.Description, LinkURL: p.LinkURL, PrivacyMode: p.PrivacyMode, Avatar: p.Avatar,
		Avatar3D: p.Avatar3D, Params: p.Params, IdentityType: p.IdentityType, IdentityName: p.IdentityName,
		ZAddress: p.ZAddress, PublicRoomCount: p.PublicRoomCount, ContactCount: p.ContactCount,
		PendingContactCount: p.PendingContactCount, NewInvitationsCount: p.NewInvitationsCount,
		PendingRequestCount: p.PendingRequestCount, NewNotificationsCount: p.NewNotificationsCount,
		IdealMatchCount: p.IdealMatchCount,
		Sex:             p.Sex, News: p.News, Restrictions: p.Restrictions, Lang: u.Lang, DatingModel: p.DatingModel,
	}
}
