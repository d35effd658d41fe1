package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// held is a set of open connections to a gateway.
type held struct {
	conns  []net.Conn
	n      int
	before int64 // the gateway's RSS before they were opened, KiB
}

func (h *held) close() {
	for _, c := range h.conns {
		c.Close()
	}
	h.conns = nil
}

// openConns opens n keep-alive connections to the gateway at base, each
// making one system.ping, and leaves them open.
func openConns(base string, n int) (*held, error) {
	addr := strings.TrimPrefix(base, "http://")
	req := fmt.Sprintf("POST /rpc HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		addr, len(pingBody), pingBody)
	h := &held{}
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		first error
	)
	sem := make(chan struct{}, 32)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := ping(addr, req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = err
				}
				return
			}
			h.conns = append(h.conns, c)
		}()
	}
	wg.Wait()
	h.n = len(h.conns)
	if first != nil {
		return h, fmt.Errorf("%d of %d connections failed: %w", n-h.n, n, first)
	}
	return h, nil
}

func ping(addr, req string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		c.Close()
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	_ = c.SetDeadline(time.Time{})
	return c, nil
}
