package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"
)

// TestConsoleUsersScale pages the console's users list over many users
// (PARTNERGATE_CONSOLE_SCALE of them, e.g. 1000000; skipped when unset):
// rows are written straight into the embedded SQLite file, then the
// console's route runs admin.users.list first page, 40 keyset pages deep,
// an email lookup and a state filter, and logs each one's time.
//
//	PARTNERGATE_CONSOLE_SCALE=1000000 go test -run TestConsoleUsersScale -v ./cmd/partnergate
func TestConsoleUsersScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("PARTNERGATE_CONSOLE_SCALE"))
	if n <= 0 {
		t.Skip("PARTNERGATE_CONSOLE_SCALE unset: the console's users list at scale SKIPPED")
	}
	dir := t.TempDir()
	clk := &otpClock{t: time.Now()}
	g := withOTPClock(t, clk, map[string]string{"PARTNERGATE_DATA_DIR": dir})
	bg := context.Background()
	rootID, rootTok := g.RegisterUser(t, "root@example.com", strongPassword)
	if err := g.Store().SetUserRole(bg, rootID, "superadmin"); err != nil {
		t.Fatal(err)
	}
	app, _, _ := enrolOTP(t, g, clk, rootTok)

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "partnergate.db")+"?_pragma=busy_timeout(20000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	insU, err := tx.Prepare(`INSERT INTO users (id, created_at, updated_at, state, role, uid) VALUES (?, ?, ?, 'active', '', ?)`)
	if err != nil {
		t.Fatal(err)
	}
	insE, err := tx.Prepare(`INSERT INTO identifiers (user_id, kind, value, norm, verified) VALUES (?, 'email', ?, ?, 1)`)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-time.Duration(n) * time.Second).UnixMicro()
	for i := range n {
		// Ids sort as creation order, as UUIDv7 ids do, below the real ones.
		id := fmt.Sprintf("00000000-%04x-7000-8000-%012x", i>>48, i)
		email := fmt.Sprintf("scale%07d@example.com", i)
		at := base + int64(i)*1_000_000
		if _, err := insU.Exec(id, at, at, fmt.Sprintf("IDF%09X", i)); err != nil {
			t.Fatal(err)
		}
		if _, err := insE.Exec(id, email, email); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d users written in %v", n, time.Since(start).Round(time.Millisecond))

	c := &consoleClient{t: t, base: g.URL}
	b, _ := json.Marshal(map[string]string{"email": "root@example.com", "password": strongPassword, "otp_code": app.fresh()})
	if r := c.do(http.MethodPost, "/console/api/session", string(b), nil); r.env.Error.Status {
		t.Fatalf("sign in: %s", r.body)
	} else {
		var d struct{ CSRF string }
		_ = json.Unmarshal(r.env.Data, &d)
		c.csrf = d.CSRF
	}
	list := func(params map[string]any) (users int, next string, took time.Duration) {
		p, _ := json.Marshal(params)
		t0 := time.Now()
		r := c.rpc(`{"jsonrpc":"2.0","method":"admin.users.list","params":` + string(p) + `,"id":1}`)
		took = time.Since(t0)
		if r.env.Error.Status {
			t.Fatalf("list %s: %+v", p, r.env.Error)
		}
		var d struct {
			NextCursor string            `json:"next_cursor"`
			Users      []json.RawMessage `json:"users"`
		}
		if err := json.Unmarshal(r.env.Data, &d); err != nil {
			t.Fatalf("list: %s", r.body)
		}
		return len(d.Users), d.NextCursor, took
	}
	var times []time.Duration
	cursor := ""
	for page := range 40 {
		params := map[string]any{"limit": 25}
		if cursor != "" {
			params["cursor"] = cursor
		}
		got, next, took := list(params)
		if got != 25 || next == "" {
			t.Fatalf("page %d: %d users, next %q", page, got, next)
		}
		times = append(times, took)
		cursor = next
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	t.Logf("40 keyset pages of 25 over %d users: median %v, slowest %v", n+1, times[len(times)/2], times[len(times)-1])
	if got, _, took := list(map[string]any{"limit": 25, "email": fmt.Sprintf("scale%07d@example.com", n/2)}); got != 1 {
		t.Fatalf("email lookup: %d users", got)
	} else {
		t.Logf("email lookup: %v", took)
	}
	_, _, took := list(map[string]any{"limit": 25, "state": "banned"})
	t.Logf("state=banned (no match): %v", took)
	_, _, took = list(map[string]any{"limit": 25, "page": 400})
	t.Logf("page 400 by offset (for comparison): %v", took)
}
