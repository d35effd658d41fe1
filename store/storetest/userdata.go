package storetest

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"partnergate/store"
)

// runUserData runs the conformance tests of store.UserData (store/userdata.go)
// on backends that implement it.
func runUserData(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store, d store.UserData)
	}{
		{"ProductsSeeded", testProductsSeeded},
		{"PutProduct", testPutProduct},
		{"SetProductState", testSetProductState},
		{"RecordTracking", testRecordTracking},
		{"PushDevices", testPushDevices},
		{"Blocks", testBlocks},
		{"Backups", testBackups},
		{"TakeBackupParallel", testTakeBackupParallel},
		{"DeleteUserRemovesUserData", testDeleteUserRemovesUserData},
	}
	for _, tc := range tests {
		t.Run("UserData/"+tc.name, func(t *testing.T) {
			s := newStore(t)
			d, ok := s.(store.UserData)
			if !ok {
				t.Skipf("%T does not implement store.UserData", s)
			}
			tc.fn(t, s, d)
		})
	}
}

func mustUsers(t *testing.T, s store.Store, ids ...string) {
	t.Helper()
	for _, id := range ids {
		mustCreate(t, s, store.NewUser{User: store.User{ID: id, Created: base, Updated: base, State: store.StateActive}})
	}
}

func testProductsSeeded(t *testing.T, _ store.Store, d store.UserData) {
	ctx := t.Context()
	ps, err := d.Products(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) < 2 || ps[0].ID != "webstat" || ps[1].ID != "dating" {
		t.Fatalf("catalogue = %+v, want webstat then dating first", ps)
	}
	w := ps[0]
	if w.Title != "Advanced web analytics" || w.Description != "Find out what I think and how visitors of your resources look." ||
		w.Policy != "It's a Privacy Policy" || w.Icon != "globe" || w.Info != "" || w.Disabled || w.Created.IsZero() {
		t.Errorf("webstat = %+v, want the seed's texts", w)
	}
	got, err := d.Product(ctx, "dating")
	if err != nil || got.Title == "" || got.Disabled {
		t.Errorf("Product(dating) = %+v, %v", got, err)
	}
	_, err = d.Product(ctx, "nope")
	wantErr(t, "Product(nope)", err, store.ErrNotFound)
}

func testPutProduct(t *testing.T, _ store.Store, d store.UserData) {
	ctx := t.Context()
	p := store.Product{ID: "vpn", Title: "VPN", Description: "d", Policy: "p", Icon: "shield",
		Info: "https://example.com/vpn", SubscriptionCancel: "https://pay.example.com/cancel", Position: 5}
	if err := d.PutProduct(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := d.Product(ctx, "vpn")
	if err != nil {
		t.Fatal(err)
	}
	created := got.Created
	if created.IsZero() || !got.Updated.Equal(created) {
		t.Errorf("times = %v / %v", got.Created, got.Updated)
	}
	got.Created, got.Updated = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("Product = %+v, want %+v", got, p)
	}
	ps, _ := d.Products(ctx)
	if len(ps) != 3 || ps[0].ID != "vpn" {
		t.Errorf("position 5 sorts first: %+v", ps)
	}

	p.Title, p.Disabled, p.SubscriptionCancel, p.Position = "VPN 2", true, "", 50
	if err := d.PutProduct(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, _ = d.Product(ctx, "vpn")
	if got.Title != "VPN 2" || !got.Disabled || got.SubscriptionCancel != "" || got.Position != 50 || !got.Created.Equal(created) {
		t.Errorf("replaced product = %+v (created %v)", got, created)
	}
}

func testSetProductState(t *testing.T, _ store.Store, d store.UserData) {
	ctx := t.Context()
	mustUsers(t, d.(store.Store), "u1", "u2")
	at := base.Add(time.Hour)
	set := func(user, product, action string) ([]string, error) {
		return d.SetProductState(ctx, store.ProductConsent{UserID: user, ProductID: product, Action: action,
			At: at, IP: "192.0.2.1", UserAgent: "test/1.0"})
	}
	steps := []struct {
		user, product, action string
		want                  []string
	}{
		{"u1", "webstat", store.ConsentActivate, []string{"webstat"}},
		{"u1", "dating", store.ConsentActivate, []string{"dating", "webstat"}},
		{"u1", "dating", store.ConsentActivate, []string{"dating", "webstat"}},
		{"u1", "webstat", store.ConsentDeactivate, []string{"dating"}},
		{"u1", "webstat", store.ConsentDeactivate, []string{"dating"}},
		{"u2", "webstat", store.ConsentActivate, []string{"webstat"}},
	}
	for i, st := range steps {
		got, err := set(st.user, st.product, st.action)
		if err != nil || !reflect.DeepEqual(got, st.want) {
			t.Fatalf("step %d: %s %s %s = %v, %v; want %v", i, st.user, st.action, st.product, got, err, st.want)
		}
	}
	got, err := set("u2", "webstat", store.ConsentDeactivate)
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("deactivating the last product = %#v, %v; want an empty, non-nil list", got, err)
	}
	_, err = set("u1", "nope", store.ConsentActivate)
	wantErr(t, "unknown product", err, store.ErrNotFound)
	_, err = set("ghost", "webstat", store.ConsentActivate)
	wantErr(t, "unknown user", err, store.ErrNotFound)
	if _, err := set("u1", "webstat", "maybe"); err == nil {
		t.Error("unknown action accepted")
	}

	ups, err := d.UserProducts(ctx, "u1")
	if err != nil || len(ups) != 1 || ups[0].ProductID != "dating" || !ups[0].Activated.Equal(at) {
		t.Errorf("UserProducts(u1) = %+v, %v", ups, err)
	}
	cs, err := d.ProductConsents(ctx, "u1")
	if err != nil || len(cs) != 5 {
		t.Fatalf("ProductConsents(u1) = %+v, %v; want 5 (failed calls record none)", cs, err)
	}
	for i, c := range cs {
		if c.UserID != "u1" || c.ProductID != steps[i].product || c.Action != steps[i].action ||
			!c.At.Equal(at) || c.IP != "192.0.2.1" || c.UserAgent != "test/1.0" || c.ID == 0 {
			t.Errorf("consent %d = %+v", i, c)
		}
		if i > 0 && c.ID <= cs[i-1].ID {
			t.Errorf("consents not oldest first: %d after %d", c.ID, cs[i-1].ID)
		}
	}
	if cs, _ := d.ProductConsents(ctx, "u2"); len(cs) != 2 {
		t.Errorf("ProductConsents(u2) = %d rows, want 2", len(cs))
	}
}

func testRecordTracking(t *testing.T, _ store.Store, d store.UserData) {
	ctx := t.Context()
	mustUsers(t, d.(store.Store), "u1", "u2")
	rec := func(user string, i, keep int) int64 {
		t.Helper()
		id, err := d.RecordTracking(ctx, store.TrackingRecord{KeepEvents: keep, Event: store.TrackingEvent{
			UserID: user, At: base.Add(time.Duration(i) * time.Second), IP: "198.51.100.7", UserAgent: "ua",
			Data: `{"n":` + string(rune('0'+i)) + `}`,
		}})
		if err != nil {
			t.Fatalf("RecordTracking(%s, %d): %v", user, i, err)
		}
		return id
	}
	var ids []int64
	for i := range 5 {
		ids = append(ids, rec("u1", i, 0))
		rec("u2", i, 0)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("ids not increasing: %v", ids)
		}
	}
	evs, err := d.TrackingEvents(ctx, "u1", 0)
	if err != nil || len(evs) != 5 {
		t.Fatalf("TrackingEvents = %d, %v", len(evs), err)
	}
	if evs[0].ID != ids[4] || evs[0].Data != `{"n":4}` || !evs[0].At.Equal(base.Add(4*time.Second)) ||
		evs[0].IP != "198.51.100.7" || evs[0].UserAgent != "ua" || evs[0].UserID != "u1" {
		t.Errorf("newest event = %+v", evs[0])
	}
	if evs, _ := d.TrackingEvents(ctx, "u1", 2); len(evs) != 2 || evs[1].ID != ids[3] {
		t.Errorf("limit 2 = %+v", evs)
	}
	// Keeping 3 prunes u1's two oldest, never u2's.
	ids = append(ids, rec("u1", 5, 3))
	evs, _ = d.TrackingEvents(ctx, "u1", 0)
	if len(evs) != 3 || evs[2].ID != ids[3] {
		t.Errorf("after keep 3: %+v", evs)
	}
	if evs, _ := d.TrackingEvents(ctx, "u2", 0); len(evs) != 5 {
		t.Errorf("u2 lost events: %d", len(evs))
	}
	_, err = d.RecordTracking(ctx, store.TrackingRecord{Event: store.TrackingEvent{UserID: "ghost", At: base, Data: "{}"}})
	wantErr(t, "unknown user", err, store.ErrNotFound)
}

func testPushDevices(t *testing.T, _ store.Store, d store.UserData) {
	ctx := t.Context()
	mustUsers(t, d.(store.Store), "u1", "u2")
	step := 0
	rec := func(user, set, unset string, keep int) {
		t.Helper()
		step++
		_, err := d.RecordTracking(ctx, store.TrackingRecord{SetPush: set, UnsetPush: unset, KeepPush: keep,
			Event: store.TrackingEvent{UserID: user, At: base.Add(time.Duration(step) * time.Second), Data: "{}"}})
		if err != nil {
			t.Fatal(err)
		}
	}
	devices := func(user string) []string {
		t.Helper()
		ds, err := d.PushDevices(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, x := range ds {
			if x.UserID != user || x.Created.IsZero() || x.Updated.Before(x.Created) {
				t.Errorf("device %+v", x)
			}
			out = append(out, x.DeviceID)
		}
		return out
	}
	rec("u1", "dev-a", "", 0)
	rec("u1", "dev-b", "", 0)
	rec("u1", "dev-a", "", 0) // again: moves to the front
	if got := devices("u1"); !reflect.DeepEqual(got, []string{"dev-a", "dev-b"}) {
		t.Errorf("devices = %v", got)
	}
	rec("u1", "", "dev-b", 0)
	rec("u2", "", "dev-a", 0) // not u2's: nothing happens
	if got := devices("u1"); !reflect.DeepEqual(got, []string{"dev-a"}) {
		t.Errorf("after unset = %v", got)
	}
	rec("u2", "dev-a", "", 0) // the device changed hands
	if got := devices("u1"); len(got) != 0 {
		t.Errorf("u1 still has %v", got)
	}
	if got := devices("u2"); !reflect.DeepEqual(got, []string{"dev-a"}) {
		t.Errorf("u2 = %v", got)
	}
	rec("u2", "dev-c", "", 0)
	rec("u2", "dev-d", "", 2)
	if got := devices("u2"); !reflect.DeepEqual(got, []string{"dev-d", "dev-c"}) {
		t.Errorf("keep 2 = %v", got)
	}
}

func testBlocks(t *testing.T, _ store.Store, d store.UserData) {
	ctx := t.Context()
	mustUsers(t, d.(store.Store), "a", "b", "c")
	put := func(blocker, blocked string, reason int, at time.Time) error {
		return d.PutBlock(ctx, store.Block{BlockerID: blocker, BlockedID: blocked, Reason: reason, Created: at})
	}
	if err := put("a", "b", 2, base); err != nil {
		t.Fatal(err)
	}
	if err := put("c", "a", 1, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := put("a", "b", 4, base.Add(time.Hour)); err != nil {
		t.Fatalf("blocking again: %v", err)
	}
	bs, err := d.BlocksBy(ctx, "a")
	if err != nil || len(bs) != 1 || bs[0].BlockedID != "b" || bs[0].Reason != 4 || !bs[0].Created.Equal(base) || bs[0].BlockerID != "a" {
		t.Errorf("BlocksBy(a) = %+v, %v; want one block, reason 4, first time kept", bs, err)
	}
	for _, tc := range []struct {
		x, y string
		want bool
	}{{"a", "b", true}, {"b", "a", true}, {"a", "c", true}, {"b", "c", false}, {"a", "nobody", false}} {
		if got, err := d.Blocked(ctx, tc.x, tc.y); err != nil || got != tc.want {
			t.Errorf("Blocked(%s, %s) = %v, %v; want %v", tc.x, tc.y, got, err, tc.want)
		}
	}
	if ids, err := d.BlockedIDs(ctx, "a"); err != nil || !reflect.DeepEqual(ids, []string{"b", "c"}) {
		t.Errorf("BlockedIDs(a) = %v, %v", ids, err)
	}
	if ids, err := d.BlockedIDs(ctx, "nobody"); err != nil || ids == nil || len(ids) != 0 {
		t.Errorf("BlockedIDs(nobody) = %#v, %v", ids, err)
	}
	wantErr(t, "block unknown user", put("a", "ghost", 1, base), store.ErrNotFound)
	wantErr(t, "unknown blocker", put("ghost", "a", 1, base), store.ErrNotFound)
	if err := put("a", "a", 1, base); err == nil {
		t.Error("a user blocked itself")
	}
	if err := put("b", "c", 6, base); err == nil {
		t.Error("reason 6 accepted")
	}
	if err := d.DeleteBlock(ctx, "a", "b"); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteBlock(ctx, "a", "b"); err != nil {
		t.Fatalf("second unblock: %v", err)
	}
	if got, _ := d.Blocked(ctx, "b", "a"); got {
		t.Error("still blocked after DeleteBlock")
	}
}

func testBackups(t *testing.T, _ store.Store, d store.UserData) {
	ctx := t.Context()
	mustUsers(t, d.(store.Store), "u1", "u2")
	now := time.Now().UTC().Truncate(time.Microsecond)
	b1 := store.Backup{TokenHash: "h1", UserID: "u1", Created: now, Expires: now.Add(time.Hour), Archive: []byte{0, 1, 2, 255}}
	if err := d.PutBackup(ctx, b1); err != nil {
		t.Fatal(err)
	}
	got, err := d.TakeBackup(ctx, "h1", now)
	if err != nil || !reflect.DeepEqual(got, b1) {
		t.Fatalf("TakeBackup = %+v, %v; want %+v", got, err, b1)
	}
	_, err = d.TakeBackup(ctx, "h1", now)
	wantErr(t, "second take", err, store.ErrNotFound)

	// A new backup replaces the user's previous one, not another user's.
	must := func(b store.Backup) {
		t.Helper()
		if err := d.PutBackup(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	must(store.Backup{TokenHash: "h2", UserID: "u1", Created: now, Expires: now.Add(time.Hour), Archive: []byte("a")})
	must(store.Backup{TokenHash: "h3", UserID: "u2", Created: now, Expires: now.Add(time.Hour), Archive: []byte("b")})
	must(store.Backup{TokenHash: "h4", UserID: "u1", Created: now, Expires: now.Add(time.Hour), Archive: []byte("c")})
	_, err = d.TakeBackup(ctx, "h2", now)
	wantErr(t, "replaced backup", err, store.ErrNotFound)
	if got, err := d.TakeBackup(ctx, "h4", now); err != nil || string(got.Archive) != "c" {
		t.Errorf("TakeBackup(h4) = %+v, %v", got, err)
	}

	// Expired: refused, and gone.
	must(store.Backup{TokenHash: "h5", UserID: "u1", Created: now, Expires: now.Add(time.Minute), Archive: []byte("d")})
	_, err = d.TakeBackup(ctx, "h5", now.Add(time.Minute))
	wantErr(t, "expired take", err, store.ErrNotFound)
	_, err = d.TakeBackup(ctx, "h5", now)
	wantErr(t, "take after expiry", err, store.ErrNotFound)

	if err := d.DeleteUserBackups(ctx, "u2"); err != nil {
		t.Fatal(err)
	}
	_, err = d.TakeBackup(ctx, "h3", now)
	wantErr(t, "deleted backup", err, store.ErrNotFound)

	err = d.PutBackup(ctx, store.Backup{TokenHash: "h6", UserID: "ghost", Created: now, Expires: now.Add(time.Hour), Archive: []byte("e")})
	wantErr(t, "unknown user", err, store.ErrNotFound)
	must(store.Backup{TokenHash: "h7", UserID: "u1", Created: now, Expires: now.Add(time.Hour), Archive: []byte("f")})
	err = d.PutBackup(ctx, store.Backup{TokenHash: "h7", UserID: "u2", Created: now, Expires: now.Add(time.Hour), Archive: []byte("g")})
	wantErr(t, "reused token hash", err, store.ErrAlreadyExists)
}

func testTakeBackupParallel(t *testing.T, _ store.Store, d store.UserData) {
	ctx := t.Context()
	mustUsers(t, d.(store.Store), "u1")
	now := time.Now().UTC()
	if err := d.PutBackup(ctx, store.Backup{TokenHash: "h", UserID: "u1", Created: now, Expires: now.Add(time.Hour), Archive: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		wins     int
		failures []error
	)
	for range 20 {
		wg.Go(func() {
			_, err := d.TakeBackup(ctx, "h", now)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, store.ErrNotFound):
				failures = append(failures, err)
			}
		})
	}
	wg.Wait()
	if wins != 1 || len(failures) > 0 {
		t.Fatalf("%d takes won, unexpected errors %v; want exactly one", wins, failures)
	}
}

func testDeleteUserRemovesUserData(t *testing.T, s store.Store, d store.UserData) {
	ctx := t.Context()
	mustUsers(t, s, "gone", "stays")
	now := time.Now().UTC()
	steps := []error{
		func() error {
			_, err := d.SetProductState(ctx, store.ProductConsent{UserID: "gone", ProductID: "webstat", Action: store.ConsentActivate, At: now})
			return err
		}(),
		func() error {
			_, err := d.RecordTracking(ctx, store.TrackingRecord{SetPush: "dev", Event: store.TrackingEvent{UserID: "gone", At: now, Data: "{}"}})
			return err
		}(),
		d.PutBlock(ctx, store.Block{BlockerID: "gone", BlockedID: "stays", Reason: 1}),
		d.PutBlock(ctx, store.Block{BlockerID: "stays", BlockedID: "gone", Reason: 1}),
		d.PutBackup(ctx, store.Backup{TokenHash: "h", UserID: "gone", Created: now, Expires: now.Add(time.Hour), Archive: []byte("x")}),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("setup %d: %v", i, err)
		}
	}
	if err := s.DeleteUser(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if ups, _ := d.UserProducts(ctx, "gone"); len(ups) != 0 {
		t.Error("activations kept")
	}
	if cs, _ := d.ProductConsents(ctx, "gone"); len(cs) != 0 {
		t.Error("consents kept")
	}
	if evs, _ := d.TrackingEvents(ctx, "gone", 0); len(evs) != 0 {
		t.Error("tracking events kept")
	}
	if ds, _ := d.PushDevices(ctx, "gone"); len(ds) != 0 {
		t.Error("push devices kept")
	}
	if ids, _ := d.BlockedIDs(ctx, "stays"); len(ids) != 0 {
		t.Errorf("blocks kept: %v", ids)
	}
	if _, err := d.TakeBackup(ctx, "h", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("backup kept: %v", err)
	}
}
