package main

import (
	"bufio"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"

	_ "github.com/lib/pq" // registers "postgres"
)

// services are the real PostgreSQL and Redis, when there are both.
type services struct {
	pg    string // admin URL where databases may be created; "" embedded
	redis string
	key   string // PARTNERGATE_SECRET_KEY shared by every process

	mu  sync.Mutex
	dbs []string // databases this run created
}

// discover reads PARTNERGATE_TEST_DATABASE_URL/PARTNERGATE_TEST_REDIS_URL,
// else asks `.ci/services env` what is already running. It never starts
// anything itself: `make bench` does that.
func discover(root string) (pg, rd, how string) {
	pg, rd = os.Getenv("PARTNERGATE_TEST_DATABASE_URL"), os.Getenv("PARTNERGATE_TEST_REDIS_URL")
	if pg != "" && rd != "" {
		return pg, rd, "from PARTNERGATE_TEST_DATABASE_URL/PARTNERGATE_TEST_REDIS_URL"
	}
	cmd := exec.Command("bash", root+"/.ci/services", "env")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "", "", "no services (.ci/services env: " + err.Error() + ")"
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line := strings.TrimPrefix(sc.Text(), "export ")
		k, v, found := strings.Cut(line, "=")
		if !found {
			continue
		}
		v = strings.Trim(v, "'")
		switch k {
		case "PARTNERGATE_TEST_DATABASE_URL":
			if pg == "" {
				pg = v
			}
		case "PARTNERGATE_TEST_REDIS_URL":
			if rd == "" {
				rd = v
			}
		}
	}
	if pg == "" || rd == "" {
		return "", "", "PostgreSQL and/or Redis not running (start them with `bash .ci/services start`)"
	}
	return pg, rd, "from `.ci/services env`"
}

// freshDatabase creates an empty database for one gateway and returns its URL.
func (s *services) freshDatabase(name string) (string, error) {
	db, err := sql.Open("postgres", s.pg)
	if err != nil {
		return "", err
	}
	defer db.Close()
	dbName := strings.ToLower("bench_" + strings.ReplaceAll(name, "-", "_") + "_" + randomHex(4))
	if _, err := db.Exec("CREATE DATABASE " + dbName); err != nil {
		return "", fmt.Errorf("create database %s: %w", dbName, err)
	}
	s.mu.Lock()
	s.dbs = append(s.dbs, dbName)
	s.mu.Unlock()
	u, err := url.Parse(s.pg)
	if err != nil {
		return "", err
	}
	u.Path = "/" + dbName
	return u.String(), nil
}

// dropAll drops the databases this run created.
func (s *services) dropAll() {
	if s.pg == "" || len(s.dbs) == 0 {
		return
	}
	db, err := sql.Open("postgres", s.pg)
	if err != nil {
		return
	}
	defer db.Close()
	for _, n := range s.dbs {
		if _, err := db.Exec("DROP DATABASE IF EXISTS " + n + " WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "pgbench: drop %s: %v\n", n, err)
		}
	}
}
