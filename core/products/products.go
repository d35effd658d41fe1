// Package products is the domain core of seed 000's product catalogue: the
// products a user can activate, each user's activation state, and the
// consent log that makes an activation or deactivation a legal act ("calling
// this method is equivalent to knowing consent with the product user
// agreement"). The catalogue lives in the database; migration 0003 seeds
// webstat and dating and Put adds or changes products.
package products

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"partnergate/core"
	"partnergate/core/fault"
	"partnergate/store"
)

// Activation states as user.products.get reports them.
const (
	StateActivated   = "activated"
	StateDeactivated = "deactivated"
	StateDisabled    = "disabled"
)

// idPattern is the product id allowlist: a lower-case letter, then
// lower-case letters, digits, '_', '-' or '.', 64 characters at most.
var idPattern = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)

// ValidID reports whether id is a well-formed product id.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// Service is the product core. Its fields are its dependencies, set in cmd.
type Service struct {
	Store store.ProductStore
	Now   func() time.Time
	Log   zerolog.Logger
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Listed is a catalogue entry with the user's state.
type Listed struct {
	store.Product
	State string
}

// List returns the catalogue with userID's state of each product.
func (s *Service) List(ctx context.Context, userID string) ([]Listed, error) {
	all, err := s.Store.Products(ctx)
	if err != nil {
		return nil, core.StoreError("products: list products", err)
	}
	active, err := s.Store.UserProducts(ctx, userID)
	if err != nil {
		return nil, core.StoreError("products: list user products", err)
	}
	on := make(map[string]bool, len(active))
	for _, a := range active {
		on[a.ProductID] = true
	}
	out := make([]Listed, 0, len(all))
	for _, p := range all {
		state := StateDeactivated
		switch {
		case p.Disabled:
			state = StateDisabled
		case on[p.ID]:
			state = StateActivated
		}
		out = append(out, Listed{Product: p, State: state})
	}
	return out, nil
}

// Change is one activation or deactivation request and where it came from,
// as the consent log records it.
type Change struct {
	UserID    string
	ProductID string
	IP        string
	UserAgent string
}

// Activate activates the product for the user, recording the consent, and
// returns the user's active product ids. fault.Invalid for a malformed id,
// fault.NotFound for an unknown product (or user), fault.ProductDisabled
// for a disabled one. Activating an active product records the consent
// again and changes nothing else.
func (s *Service) Activate(ctx context.Context, c Change) ([]string, error) {
	p, err := s.product(ctx, c.ProductID)
	if err != nil {
		return nil, err
	}
	if p.Disabled {
		return nil, fault.New(fault.ProductDisabled)
	}
	return s.setState(ctx, c, store.ConsentActivate)
}

// Deactivate deactivates the product for the user, recording the consent,
// and returns the user's active product ids and the product's subscription
// cancellation URL ("" when it has none). Disabled products can be
// deactivated; deactivating an inactive one records the consent again.
func (s *Service) Deactivate(ctx context.Context, c Change) (modules []string, cancelURL string, err error) {
	p, err := s.product(ctx, c.ProductID)
	if err != nil {
		return nil, "", err
	}
	modules, err = s.setState(ctx, c, store.ConsentDeactivate)
	if err != nil {
		return nil, "", err
	}
	return modules, p.SubscriptionCancel, nil
}

func (s *Service) product(ctx context.Context, id string) (store.Product, error) {
	if !ValidID(id) {
		return store.Product{}, fault.Field(fault.Invalid, "product_id", "must be a product id: a-z first, then a-z, 0-9, '_', '-' or '.', 64 characters at most")
	}
	p, err := s.Store.Product(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Product{}, fault.New(fault.NotFound)
	}
	if err != nil {
		return store.Product{}, core.StoreError("products: read product", err)
	}
	return p, nil
}

func (s *Service) setState(ctx context.Context, c Change, action string) ([]string, error) {
	modules, err := s.Store.SetProductState(ctx, store.ProductConsent{
		UserID: c.UserID, ProductID: c.ProductID, Action: action,
		At: s.now(), IP: c.IP, UserAgent: truncate(c.UserAgent, 512),
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.New(fault.NotFound)
	}
	if err != nil {
		return nil, core.StoreError("products: set product state", err)
	}
	s.Log.Info().Str("event", "product."+action).Str("user", c.UserID).Str("product", c.ProductID).
		Str("ip", c.IP).Msg("audit")
	return modules, nil
}

// Field limits of a catalogue entry.
const (
	maxTitle       = 200
	maxDescription = 4000
	maxPolicy      = 100000
	maxIcon        = 200
	maxURL         = 2048
)

// Put validates p and adds it to the catalogue, or replaces the product of
// the same id (its activations and consents stay). It is the admin path:
// nothing calls it on behalf of an end user. fault.Invalid names each bad
// field.
func (s *Service) Put(ctx context.Context, p store.Product) error {
	fields := map[string]string{}
	if !ValidID(p.ID) {
		fields["id"] = "a-z first, then a-z, 0-9, '_', '-' or '.', 64 characters at most"
	}
	text := func(name, v string, max int, required bool) {
		switch {
		case required && strings.TrimSpace(v) == "":
			fields[name] = "required"
		case !utf8.ValidString(v):
			fields[name] = "not valid UTF-8"
		case utf8.RuneCountInString(v) > max:
			fields[name] = fmt.Sprintf("longer than %d characters", max)
		}
	}
	text("title", p.Title, maxTitle, true)
	text("description", p.Description, maxDescription, false)
	text("policy", p.Policy, maxPolicy, false)
	text("icon", p.Icon, maxIcon, false)
	for name, v := range map[string]string{"info": p.Info, "subscription_cancel": p.SubscriptionCancel} {
		if v != "" && !webURL(v) {
			fields[name] = "must be an absolute http(s) URL of at most 2048 characters"
		}
	}
	if len(fields) > 0 {
		return &fault.Error{Code: fault.Invalid, Message: fault.Invalid.Message(), Fields: fields}
	}
	if err := s.Store.PutProduct(ctx, p); err != nil {
		return core.StoreError("products: put product", err)
	}
	s.Log.Info().Str("event", "product.put").Str("product", p.ID).Bool("disabled", p.Disabled).Msg("audit")
	return nil
}

func webURL(v string) bool {
	if len(v) > maxURL {
		return false
	}
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
