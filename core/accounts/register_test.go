package accounts_test

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"partnergate/core/accounts"
	"partnergate/core/codes"
	"partnergate/core/delivery"
	"partnergate/core/fault"
	"partnergate/core/keyring"
	"partnergate/store"
)

const goodPassword = "glacier-Umbrella-93"

func TestRegister(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	u, err := e.svc.Register(ctx, accounts.Registration{
		Email: "Zeb.Quartz@Example.COM", Password: e.secret(goodPassword), FirstName: "Zeb", LastName: "Quartz",
	})
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	if id, err := uuid.Parse(u.ID); err != nil || id.Version() != 7 {
		t.Errorf("user id %q is not a UUIDv7", u.ID)
	}
	if u.State != store.StateActive || !u.IsNew || u.Role != "" || u.Lang != "en" {
		t.Errorf("registered user %+v", u)
	}
	if p, err := e.svc.Profile(ctx, u.ID); err != nil || p.FirstName != "Zeb" || p.LastName != "Quartz" || p.Sex != -1 {
		t.Errorf("registered profile %+v, %v", p, err)
	}
	if !u.Created.Equal(e.clk.Now()) {
		t.Errorf("Created = %s, want the clock's %s", u.Created, e.clk.Now())
	}
	id, ok := u.Identifier(store.KindEmail)
	if !ok || id.Value != "Zeb.Quartz@example.com" || id.Norm != "zeb.quartz@example.com" || id.Verified {
		t.Errorf("email identifier %+v", id)
	}

	got, err := e.st.UserByIdentifier(ctx, store.KindEmail, "zeb.quartz@example.com")
	if err != nil || got.ID != u.ID {
		t.Fatalf("stored user: %+v, %v", got, err)
	}
	c, err := e.st.Credential(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(c.PasswordHash, goodPassword) {
		t.Fatalf("stored hash %q", c.PasswordHash)
	}
	if ok, _, err := e.svc.Hasher.Verify(ctx, goodPassword, c.PasswordHash); !ok || err != nil {
		t.Fatalf("stored hash does not verify the password: %v, %v", ok, err)
	}
	if !strings.Contains(e.log.String(), `"event":"user.registered"`) {
		t.Error("no audit event for the registration")
	}
}

func TestRegisterDuplicate(t *testing.T) {
	e := newEnv(t)
	e.register(t, "Alice.Smith@Example.com", goodPassword)
	for _, email := range []string{"Alice.Smith@Example.com", "alice.smith@example.com", "ALICE.SMITH@EXAMPLE.COM", "alice.SMITH@example.COM"} {
		t.Run(email, func(t *testing.T) {
			_, err := e.svc.Register(t.Context(), accounts.Registration{Email: email, Password: "another-Passw0rd-71"})
			wantCode(t, "Register", err, fault.AlreadyExists)
		})
	}
	if n := e.countUsers(t); n != 1 {
		t.Fatalf("%d users stored, want 1", n)
	}
}

func TestRegisterParallel(t *testing.T) {
	e := newEnv(t)
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		// One address in varying case: the unique index decides.
		email := "race@example.com"
		if i%2 == 1 {
			email = "Race@Example.com"
		}
		wg.Go(func() {
			_, errs[i] = e.svc.Register(t.Context(), accounts.Registration{Email: email, Password: goodPassword})
		})
	}
	wg.Wait()
	ok, exists := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case fault.CodeOf(err) == fault.AlreadyExists:
			exists++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 || exists != n-1 {
		t.Fatalf("%d successes and %d AlreadyExists, want 1 and %d", ok, exists, n-1)
	}
	if c := e.countUsers(t); c != 1 {
		t.Fatalf("%d users stored, want 1", c)
	}
}

func TestRegisterRefused(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, email, pw string
		first, last     string
		want            fault.Code
	}{
		{"malformed email", "not-an-email", goodPassword, "", "", fault.EmailInvalid},
		{"email with display name", "Zeb <zeb@example.com>", goodPassword, "", "", fault.EmailInvalid},
		{"neither email nor phone", "", goodPassword, "", "", fault.Invalid},
		{"short password", "zeb@example.com", "Tz8#kq2", "", "", fault.PasswordTooShort},
		{"empty password", "zeb@example.com", "", "", "", fault.PasswordTooShort},
		{"long password", "zeb@example.com", strings.Repeat("Kx7#qLm2", 17), "", "", fault.PasswordTooLong},
		{"oversize password", "zeb@example.com", strings.Repeat("x", 5000), "", "", fault.PasswordTooLong},
		{"common password", "zeb@example.com", "password123", "", "", fault.PasswordWeak},
		{"email as password", "zebulon.quartzfeld@example.com", "zebulon.quartzfeld@example.com", "", "", fault.PasswordWeak},
		{"email local part as password", "zebulon.quartzfeld@example.com", "zebulon.quartzfeld", "", "", fault.PasswordWeak},
		{"name as password", "zq@example.com", "Zebulon Quartzfeld", "Zebulon", "Quartzfeld", fault.PasswordWeak},
		{"bad email wins over bad password", "nope", "x", "", "", fault.EmailInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Register(t.Context(), accounts.Registration{Email: tt.email, Password: e.secret(tt.pw), RequirePassword: true, FirstName: tt.first, LastName: tt.last})
			wantCode(t, "Register", err, tt.want)
		})
	}
	if n := e.countUsers(t); n != 0 {
		t.Fatalf("%d users stored after refusals", n)
	}
}

func TestParseEmail(t *testing.T) {
	local64 := strings.Repeat("l", 64)
	// 64 + 1 + 189 = 254 characters; labels of at most 63.
	domain189 := strings.Repeat(strings.Repeat("d", 62)+".", 3)[:185] + ".com"
	tests := []struct {
		name, in    string
		value, norm string // empty: refused
	}{
		{"plain", "alice@example.com", "alice@example.com", "alice@example.com"},
		{"domain lower-cased, local kept", "Alice.Smith@Example.COM", "Alice.Smith@example.com", "alice.smith@example.com"},
		{"all upper", "ALICE@EXAMPLE.COM", "ALICE@example.com", "alice@example.com"},
		{"plus tag", "alice+news@mail.example.org", "alice+news@mail.example.org", "alice+news@mail.example.org"},
		{"non-ascii", "ÄLICE@Exämple.com", "ÄLICE@exämple.com", "älice@exämple.com"},
		{"local of 64", local64 + "@example.com", local64 + "@example.com", local64 + "@example.com"},
		{"total of 254", local64 + "@" + domain189, local64 + "@" + domain189, local64 + "@" + domain189},
		{"local of 65", local64 + "l@example.com", "", ""},
		{"total of 255", local64 + "@d" + domain189, "", ""},
		{"very long", strings.Repeat("a", 10000) + "@example.com", "", ""},
		{"empty", "", "", ""},
		{"no at", "alice.example.com", "", ""},
		{"no local", "@example.com", "", ""},
		{"no domain", "alice@", "", ""},
		{"two ats", "alice@@example.com", "", ""},
		{"no dot in domain", "alice@localhost", "", ""},
		{"domain ends with dot", "alice@example.com.", "", ""},
		{"domain starts with dot", "alice@.example.com", "", ""},
		{"double dot in domain", "alice@example..com", "", ""},
		{"domain literal", "alice@[192.168.0.1]", "", ""},
		{"display name", "Alice <alice@example.com>", "", ""},
		{"angle brackets", "<alice@example.com>", "", ""},
		{"quoted display name", `"Alice" <alice@example.com>`, "", ""},
		{"leading space", " alice@example.com", "", ""},
		{"trailing space", "alice@example.com ", "", ""},
		{"trailing newline", "alice@example.com\n", "", ""},
		{"space inside", "al ice@example.com", "", ""},
		{"quoted local part", `"al ice"@example.com`, "", ""},
		{"comment", "alice(work)@example.com", "", ""},
		{"two addresses", "alice@example.com, bob@example.com", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := accounts.ParseEmail(tt.in)
			if tt.value == "" {
				fe, ok := fault.As(err)
				if !ok || fe.Code != fault.EmailInvalid || fe.Fields["email"] == "" {
					t.Fatalf("ParseEmail(%.60q) = %+v, %v; want EmailInvalid naming the email field", tt.in, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseEmail(%.60q): %v", tt.in, err)
			}
			if got.Value != tt.value || got.Norm != tt.norm {
				t.Fatalf("ParseEmail(%.60q) = %+v, want Value %q Norm %q", tt.in, got, tt.value, tt.norm)
			}
		})
	}
}

// With SendCodes the registration's code messages are written with the
// user (store.NewUser.Messages; the store suite proves a failed message
// write leaves no user), and the code in the message verifies.
func TestRegisterStoresItsCodes(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	ring, err := keyring.New(bytes.Repeat([]byte{7}, keyring.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	outbox, err := delivery.NewOutbox(e.st, ring, false)
	if err != nil {
		t.Fatal(err)
	}
	woken := 0
	outbox.Wake = func() { woken++ }
	e.svc.Codes = &codes.Service{KV: e.kv, Ring: ring, Deliver: outbox, Policy: codes.DefaultPolicy}
	u, err := e.svc.Register(ctx, accounts.Registration{Email: "codes@example.com", Password: e.secret(goodPassword), SendCodes: true})
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	ms, err := e.st.MessagesTo(ctx, "codes@example.com", 0)
	if err != nil || len(ms) != 1 || ms[0].Sent != nil {
		t.Fatalf("messages to the address = %+v, %v, want one unsent", ms, err)
	}
	if woken != 1 {
		t.Errorf("dispatcher woken %d times, want once after the commit", woken)
	}
	body, err := outbox.OpenBody(ms[0])
	if err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile(`\b[0-9]{6}\b`).FindString(body)
	if _, err := e.svc.Verify(ctx, u.ID, map[string]string{store.KindEmail: code}); err != nil {
		t.Fatalf("Verify with the stored code %q: %v", code, err)
	}
	// The same address again is refused, and no second message is stored.
	_, err = e.svc.Register(ctx, accounts.Registration{Email: "codes@example.com", Password: goodPassword, SendCodes: true})
	wantCode(t, "second Register", err, fault.AlreadyExists)
	if ms, _ := e.st.MessagesTo(ctx, "codes@example.com", 0); len(ms) != 1 {
		t.Fatalf("%d messages after the refused registration, want 1", len(ms))
	}
}
