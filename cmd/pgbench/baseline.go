package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/alicebob/miniredis/v2"
	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	_ "modernc.org/sqlite" // registers "sqlite"

	"partnergate/core/accounts"
	"partnergate/core/password"
	"partnergate/store/kv"
)

// The baselines: what this machine can do at all for each row, measured
// in the same run with the same load generator, concurrency and cores.

// bareHandler is the limit for system.ping: a bare net/http handler that
// decodes and encodes the same JSON (as BenchmarkPingBare).
func bareHandler(w http.ResponseWriter, r *http.Request) {
	var req struct {
		JSONRPC string          `json:"jsonrpc"`
		Method  string          `json:"method"`
		ID      json.RawMessage `json:"id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		w.WriteHeader(400)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": req.ID,
		"result": map[string]any{"data": map[string]bool{"pong": true}, "error": map[string]any{"status": false, "code": 0, "message": ""}}})
}

// runBareServer is `pgbench bare-server`: the bare handler in a process of
// its own, like the gateway. It prints its address and serves until stdin
// closes.
func runBareServer() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	go func() { _ = http.Serve(ln, http.HandlerFunc(bareHandler)) }()
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// bareServer is the bare handler's child process.
type bareServer struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	url   string
}

func startBare() (*bareServer, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "bare-server")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("bare server: %w", err)
	}
	return &bareServer{cmd: cmd, stdin: stdin, url: "http://" + strings.TrimSpace(line)}, nil
}

func (b *bareServer) stop() {
	_ = b.stdin.Close()
	done := make(chan struct{})
	go func() { _ = b.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = b.cmd.Process.Kill()
		<-done
	}
}

// argonParams are the gateway's defaults, which every bench gateway runs.
var argonParams = &argon2id.Params{
	Memory: password.DefaultParams.Memory, Iterations: password.DefaultParams.Iterations,
	Parallelism: password.DefaultParams.Parallelism, SaltLength: 16, KeyLength: 32,
}

// benchHash is one precomputed hash of benchPassword with the live
// parameters (so a login verifies it at full cost and never rehashes).
func benchHash() (string, error) {
	return argon2id.CreateHash(password.Normalize(benchPassword), argonParams)
}

// verifyLoad is raw argon2id verifies on `slots` goroutines: the gateway
// runs at most that many hashes at once on the same cores.
func verifyLoad(slots int, hash string) func(time.Duration) sample {
	return func(d time.Duration) sample {
		return loop(slots, d, func(int) (outcome, int, string) {
			match, err := argon2id.ComparePasswordAndHash(benchPassword, hash)
			if err != nil || !match {
				return failed, 0, "verify"
			}
			return ok, 1, ""
		})
	}
}

// openSQL opens the gateway's store directly, as the gateway does: Postgres
// with its pool size, SQLite through one writer connection with its pragmas.
func openSQL(g *gateway) (*sql.DB, string, error) {
	if !g.embedded() {
		db, err := sql.Open("postgres", g.dbURL)
		if err != nil {
			return nil, "", err
		}
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(10)
		return db, "postgres", db.Ping()
	}
	uri := "file:" + g.sqlitePath() + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)&_txlock=immediate"
	db, err := sql.Open("sqlite", uri)
	if err != nil {
		return nil, "", err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	return db, "sqlite", db.Ping()
}

// hashInsertLoad is the limit for registrations: conc callers, each hashing
// (at most `slots` at once, as the gateway) and inserting one row.
func hashInsertLoad(db *sql.DB, dialect string, conc, slots int) (func(time.Duration) sample, error) {
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS bench_hashes (id TEXT PRIMARY KEY, hash TEXT NOT NULL, created_at BIGINT NOT NULL)`); err != nil {
		return nil, err
	}
	q := `INSERT INTO bench_hashes (id, hash, created_at) VALUES (?, ?, ?)`
	if dialect == "postgres" {
		q = `INSERT INTO bench_hashes (id, hash, created_at) VALUES ($1, $2, $3)`
	}
	sem := make(chan struct{}, slots)
	return func(d time.Duration) sample {
		return loop(conc, d, func(int) (outcome, int, string) {
			sem <- struct{}{}
			h, err := argon2id.CreateHash(password.Normalize(benchPassword), argonParams)
			<-sem
			if err != nil {
				return failed, 0, "hash"
			}
			id, _ := uuid.NewV7()
			if _, err := db.Exec(q, id.String(), h, time.Now().UnixMicro()); err != nil {
				return failed, 0, trimErr(err.Error())
			}
			return ok, 1, ""
		})
	}, nil
}

// redisBaseline is a raw go-redis GET of the session key at conc goroutines:
// against the real Redis, or in embedded mode against an in-process
// miniredis holding the same record (the gateway's Redis is in its process).
type redisBaseline struct {
	client redis.UniversalClient
	key    string
	mr     *miniredis.Miniredis
}

func newRedisBaseline(ctx context.Context, redisURL, token string) (*redisBaseline, error) {
	key := kv.DefaultPrefix + "sess:" + accounts.HashToken(token)
	if redisURL != "" {
		c, err := kv.Open(ctx, redisURL)
		if err != nil {
			return nil, err
		}
		if err := c.Get(ctx, key).Err(); err != nil {
			c.Close()
			return nil, fmt.Errorf("session key %s: %w", key, err)
		}
		return &redisBaseline{client: c, key: key}, nil
	}
	mr, err := miniredis.Run()
	if err != nil {
		return nil, err
	}
	now := time.Now().UnixMilli()
	rec := fmt.Sprintf(`{"exp":%d,"seen":%d,"created":%d,"uid":"%s","ip":"127.0.0.1","ua":"Go-http-client/1.1"}`,
		now+30*24*3600*1000, now, now, uuid.NewString())
	mr.Set(key, rec)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	return &redisBaseline{client: c, key: key, mr: mr}, nil
}

func (b *redisBaseline) load(conc int) func(time.Duration) sample {
	ctx := context.Background()
	return func(d time.Duration) sample {
		return loop(conc, d, func(int) (outcome, int, string) {
			v, err := b.client.Get(ctx, b.key).Bytes()
			if err != nil {
				if errors.Is(err, redis.Nil) {
					return failed, 0, "missing"
				}
				return failed, 0, trimErr(err.Error())
			}
			if len(v) == 0 {
				return failed, 0, "empty"
			}
			return ok, 1, ""
		})
	}
}

func (b *redisBaseline) close() {
	b.client.Close()
	if b.mr != nil {
		b.mr.Close()
	}
}
