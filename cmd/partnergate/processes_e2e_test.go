package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"partnergate/client"
	"partnergate/internal/testkit"
	"partnergate/methods/auth/authwire"
	"partnergate/methods/dev/devwire"
	"partnergate/methods/user/userwire"
)

// realServices returns the test PostgreSQL and Redis URLs, skipping (or, in
// CI, failing) when either is unset.
func realServices(t *testing.T) (pg, rd string) {
	t.Helper()
	pg, rd = os.Getenv(testkit.EnvDatabaseURL), os.Getenv(testkit.EnvRedisURL)
	if pg == "" || rd == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(testkit.EnvDatabaseURL + " and " + testkit.EnvRedisURL + " must be set in CI")
		}
		t.Skip("set " + testkit.EnvDatabaseURL + " and " + testkit.EnvRedisURL + " to run gateway processes on them")
	}
	return pg, rd
}

// processEnv is the environment every gateway process of one test shares:
// the same database, Redis and secret key; cheap hashing; partner rate
// classes lifted so a burst measures the gateways, not the throttle.
func processEnv(dbURL, redisURL string) []string {
	return []string{
		"PARTNERGATE_ADDR=127.0.0.1:0", "PARTNERGATE_DEV=true",
		"DATABASE_URL=" + dbURL, "REDIS_URL=" + redisURL,
		"PARTNERGATE_SECRET_KEY=" + testkit.NewSecretKey(),
		"PARTNERGATE_REDIS_PREFIX=proc" + testkit.NewSecretKey()[:8] + ":",
		"PARTNERGATE_ARGON2_MEMORY=256", "PARTNERGATE_ARGON2_ITERATIONS=1", "PARTNERGATE_HASH_WAIT=5s",
		"PARTNERGATE_RATES=login=100000/1s/100000,register=100000/1s/100000,default=100000/1s/100000,code=100000/1s/100000",
	}
}

// createPartner runs `partnergate partners create` against env's store.
func createPartner(t *testing.T, env []string, dir string) (kid, secret string) {
	t.Helper()
	cli := exec.Command(buildBinary(t), "partners", "create", "--name", "processes", "--scopes", "auth,system")
	cli.Env = append(os.Environ(), append(env, "PARTNERGATE_DATA_DIR="+dir)...)
	out, err := cli.Output()
	if err != nil {
		t.Fatalf("partners create: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var key struct{ KID, Secret string }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &key); err != nil || key.KID == "" {
		t.Fatalf("partners create printed %q", out)
	}
	return key.KID, key.Secret
}

// TestGatewayProcesses starts three real partnergate processes on one
// PostgreSQL database and one Redis, drives a bounded burst of
// registrations through all three, and SIGKILLs one in the middle of it:
// no acknowledged registration is lost (each one logs in through a
// survivor), a session made on the killed gateway still works on the
// others, and the survivors answer every call made to them, before the kill
// and after it.
func TestGatewayProcesses(t *testing.T) {
	pg, rd := realServices(t)
	env := processEnv(testkit.FreshDatabase(t, pg), rd)
	var gws []*process
	for range 3 {
		gws = append(gws, startBinary(t, append(env, "PARTNERGATE_DATA_DIR="+t.TempDir())))
	}
	victim := gws[2]
	kid, secret := createPartner(t, env, t.TempDir())
	ctx := context.Background()

	// A session made on the victim before the load.
	vc := client.New(victim.url)
	token := registerAndVerify(t, vc, "proc-session@example.com")

	const workers, perWorker = 6, 30 // bounded: at most 180 registrations
	var (
		mu         sync.Mutex
		acked      []string // emails acknowledged by any gateway
		onVictim   int
		survivorKO []string // calls a survivor failed
		wg         sync.WaitGroup
	)
	killed := make(chan struct{})
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				g := gws[(w+i)%len(gws)]
				c := client.New(g.url).WithPartner(kid, secret)
				email := fmt.Sprintf("proc-%d-%d@example.com", w, i)
				_, err := client.Call[authwire.RegisterUserResult](ctx, c, "auth.registerUser",
					authwire.RegisterUserParams{Email: email, Password: strongPassword})
				mu.Lock()
				switch {
				case err == nil:
					acked = append(acked, email)
					if g == victim {
						onVictim++
					}
				case g != victim:
					survivorKO = append(survivorKO, fmt.Sprintf("%s on %s: %v", email, g.url, err))
				}
				mu.Unlock()
			}
		}()
	}
	// Kill the victim once it has acknowledged a few registrations.
	go func() {
		defer close(killed)
		for {
			mu.Lock()
			n := onVictim
			mu.Unlock()
			if n >= 5 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Error(err)
		}
	}()
	wg.Wait()
	<-killed
	select {
	case <-victim.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the killed gateway did not exit")
	}
	if len(survivorKO) > 0 {
		t.Fatalf("%d calls to surviving gateways failed, first: %s", len(survivorKO), survivorKO[0])
	}
	t.Logf("%d registrations acknowledged (%d by the killed gateway before the kill)", len(acked), onVictim)

	// Every acknowledged registration is there, password and all.
	for i, email := range acked {
		g := gws[i%2]
		c := client.New(g.url).WithPartner(kid, secret)
		if _, err := client.Call[authwire.GetUserResult](ctx, c, "auth.getUserByEmailAndPassword",
			authwire.GetUserParams{Email: email, Password: strongPassword}); err != nil {
			t.Fatalf("acknowledged %s lost after the kill: %v", email, err)
		}
	}
	// The session made on the killed gateway lives in Redis, not in it.
	for i, g := range gws[:2] {
		u, err := client.Call[userwire.Object](ctx, client.New(g.url).WithToken(token), "user.auth.check", nil)
		if err != nil || u.Email != "proc-session@example.com" {
			t.Fatalf("survivor %d: the killed gateway's session = %+v, %v", i, u, err)
		}
	}
}

// registerAndVerify is the seed 000 flow on c (a dev-mode gateway): the
// registration, its code from dev.outbox.list, the verification: a session.
func registerAndVerify(t *testing.T, c *client.Client, email string) string {
	t.Helper()
	ctx := context.Background()
	id, err := client.Call[string](ctx, c, "user.auth.registration", userwire.RegistrationParams{Email: email, Password: strongPassword})
	if err != nil {
		t.Fatalf("user.auth.registration: %v", err)
	}
	out, err := client.Call[devwire.OutboxResult](ctx, c, "dev.outbox.list", devwire.OutboxParams{To: strings.ToLower(email)})
	if err != nil || len(out.Messages) == 0 {
		t.Fatalf("dev.outbox.list %s: %+v, %v", email, out, err)
	}
	code := regexp.MustCompile(`\b[0-9]{6}\b`).FindString(out.Messages[0].Body)
	u, err := client.Call[userwire.Object](ctx, c, "user.auth.verify", userwire.VerifyParams{UserID: id, EmailCode: code})
	if err != nil || u.Session == nil {
		t.Fatalf("user.auth.verify: %+v, %v", u, err)
	}
	return u.Session.Token
}
