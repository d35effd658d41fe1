package argon2

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	upstream "golang.org/x/crypto/argon2"
)

type params struct {
	time, memory uint32
	threads      uint8
	keyLen       uint32
}

func (p params) String() string {
	return fmt.Sprintf("t=%d,m=%d,p=%d,len=%d", p.time, p.memory, p.threads, p.keyLen)
}

// paramTable covers memories below the minimum (rounded up to 8 blocks a
// lane), not a multiple of 4 × threads (rounded down), one and many
// segments of address blocks, several passes and lanes, and key lengths
// below, at and above blake2b's 64-byte output.
var paramTable = []params{
	{1, 0, 1, 32}, {1, 8, 1, 32}, {1, 9, 1, 32}, {1, 64, 1, 4}, {2, 64, 1, 32},
	{3, 64, 1, 64}, {1, 64, 2, 65}, {2, 64, 3, 32}, {2, 100, 3, 16}, {4, 129, 4, 100},
	{1, 256, 1, 32}, {3, 256, 2, 128}, {2, 1024, 1, 32}, {2, 1000, 8, 32}, {1, 2048, 4, 33},
	{2, 4096, 1, 32}, {1, 8, 8, 32}, {5, 40, 1, 1},
}

var (
	password = []byte("glacier-Umbrella-93")
	salt     = []byte("0123456789abcdef")
)

// eachImplementation runs f with the SSE4 assembly (where the CPU has it)
// and with the pure-Go blamka.
func eachImplementation(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	defer func(sse4 bool) { useSSE4 = sse4 }(useSSE4)
	if useSSE4 {
		t.Run("sse4", f)
		useSSE4 = false
	}
	t.Run("generic", f)
}

// A fresh Memory for each parameter set derives upstream's key.
func TestMemoryIDKeyMatchesUpstream(t *testing.T) {
	eachImplementation(t, func(t *testing.T) {
		for _, p := range paramTable {
			want := upstream.IDKey(password, salt, p.time, p.memory, p.threads, p.keyLen)
			var m Memory
			if got := m.IDKey(password, salt, p.time, p.memory, p.threads, p.keyLen); !bytes.Equal(got, want) {
				t.Errorf("%v: Memory.IDKey = %x, want %x", p, got, want)
			}
			if got := IDKey(password, salt, p.time, p.memory, p.threads, p.keyLen); !bytes.Equal(got, want) {
				t.Errorf("%v: IDKey = %x, want %x", p, got, want)
			}
			if got, want := m.Key(password, salt, p.time, p.memory, p.threads, p.keyLen), upstream.Key(password, salt, p.time, p.memory, p.threads, p.keyLen); !bytes.Equal(got, want) {
				t.Errorf("%v: Memory.Key = %x, want %x", p, got, want)
			}
		}
	})
}

// One Memory reused over the whole table, forwards and backwards, so it
// serves sets bigger, then smaller, then bigger than the one before, and
// always derives upstream's key.
func TestMemoryReusedAcrossParams(t *testing.T) {
	eachImplementation(t, func(t *testing.T) {
		var m Memory
		seq := append([]params{}, paramTable...)
		for i := len(paramTable) - 1; i >= 0; i-- {
			seq = append(seq, paramTable[i])
		}
		for i, p := range seq {
			pw := fmt.Appendf(nil, "password %d", i) // a new password each time
			want := upstream.IDKey(pw, salt, p.time, p.memory, p.threads, p.keyLen)
			if got := m.IDKey(pw, salt, p.time, p.memory, p.threads, p.keyLen); !bytes.Equal(got, want) {
				t.Fatalf("step %d %v: Memory.IDKey = %x, want %x", i, p, got, want)
			}
		}
	})
}

// The explicit sequence of the issue: bigger, then smaller, then bigger
// than both; the memory grows only when it must, and the same password
// gives the same key whatever the memory held before.
func TestMemoryGrowsAndReuses(t *testing.T) {
	var m Memory
	if m.Len() != 0 {
		t.Fatalf("zero Memory holds %d blocks", m.Len())
	}
	steps := []struct {
		p   params
		len int // blocks held afterwards
	}{
		{params{2, 512, 1, 32}, 512},
		{params{2, 64, 2, 32}, 512},  // smaller: reused
		{params{1, 500, 4, 32}, 512}, // rounded down to 496: reused
		{params{2, 2048, 1, 32}, 2048},
		{params{3, 8, 1, 32}, 2048},
		{params{2, 512, 1, 32}, 2048},
	}
	for i, s := range steps {
		first := (*block)(nil)
		if m.Len() > 0 {
			first = &m.blocks[0]
		}
		want := upstream.IDKey(password, salt, s.p.time, s.p.memory, s.p.threads, s.p.keyLen)
		if got := m.IDKey(password, salt, s.p.time, s.p.memory, s.p.threads, s.p.keyLen); !bytes.Equal(got, want) {
			t.Fatalf("step %d %v: key %x, want %x", i, s.p, got, want)
		}
		if m.Len() != s.len {
			t.Fatalf("step %d %v: Memory holds %d blocks, want %d", i, s.p, m.Len(), s.len)
		}
		if first != nil && s.len == len(m.blocks) && i > 0 && steps[i-1].len == s.len && first != &m.blocks[0] {
			t.Fatalf("step %d %v: blocks reallocated though big enough", i, s.p)
		}
	}
}

// Whatever the memory holds beforehand cannot reach the key: the first pass
// overwrites every block before reading it.
func TestMemoryStaleContentsIgnored(t *testing.T) {
	eachImplementation(t, func(t *testing.T) {
		for _, p := range paramTable {
			want := upstream.IDKey(password, salt, p.time, p.memory, p.threads, p.keyLen)
			for _, fill := range []uint64{0, ^uint64(0), 0x0123456789abcdef} {
				var m Memory
				m.take(4096)
				for i := range m.blocks {
					for j := range m.blocks[i] {
						m.blocks[i][j] = fill ^ uint64(i*blockLength+j)
					}
				}
				if got := m.IDKey(password, salt, p.time, p.memory, p.threads, p.keyLen); !bytes.Equal(got, want) {
					t.Fatalf("%v over memory filled with %#x: key %x, want %x", p, fill, got, want)
				}
			}
		}
	})
}

// Upstream's vectors for all three modes through one reused Memory.
func TestMemoryVectorsReused(t *testing.T) {
	var m Memory
	password, salt := []byte("password"), []byte("somesalt")
	for round := range 2 {
		for i, v := range testVectors {
			want, err := hex.DecodeString(v.hash)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.deriveKey(v.mode, password, salt, nil, nil, v.time, v.memory, v.threads, uint32(len(want))); !bytes.Equal(got, want) {
				t.Errorf("round %d vector %d: %x, want %x", round, i, got, want)
			}
		}
	}
}

// Reusing a Memory allocates none of the work area again.
func TestMemoryReuseAllocations(t *testing.T) {
	const kib = 4096
	var m Memory
	m.IDKey(password, salt, 1, kib, 1, 32)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const runs = 10
	for range runs {
		m.IDKey(password, salt, 1, kib, 1, 32)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > kib*1024/4 {
		t.Fatalf("%d derivations in a reused Memory allocated %d bytes; want far less than one %d KiB work area", runs, got, kib)
	}
}

var fuzzMemory struct {
	sync.Mutex
	m Memory
}

// FuzzIDKey compares with upstream for small parameters, deriving in one
// Memory shared by every input so each derivation runs over the blocks the
// one before left.
func FuzzIDKey(f *testing.F) {
	f.Add([]byte("password"), []byte("somesalt"), uint8(1), uint16(64), uint8(1), uint8(32))
	f.Add([]byte(""), []byte(""), uint8(3), uint16(300), uint8(4), uint8(100))
	f.Add([]byte("x"), []byte("0123456789abcdef"), uint8(2), uint16(8), uint8(7), uint8(3))
	f.Fuzz(func(t *testing.T, pw, salt []byte, tm uint8, mem uint16, threads uint8, keyLen uint8) {
		p := params{time: 1 + uint32(tm%3), memory: uint32(mem % 1024), threads: 1 + threads%8, keyLen: 1 + uint32(keyLen%128)}
		want := upstream.IDKey(pw, salt, p.time, p.memory, p.threads, p.keyLen)
		fuzzMemory.Lock()
		got := fuzzMemory.m.IDKey(pw, salt, p.time, p.memory, p.threads, p.keyLen)
		fuzzMemory.Unlock()
		if !bytes.Equal(got, want) {
			t.Fatalf("%v: Memory.IDKey = %x, x/crypto = %x", p, got, want)
		}
	})
}

// BenchmarkIDKeyParallel is partnergate's hashing at its default cost,
// m=19456 KiB, t=2, p=1, on 4 goroutines (4 hashing slots), upstream
// against one reused Memory per goroutine (warmed up first, as a slot's is
// after its first hash). Besides ns/op and B/op it reports the process's
// minor page faults and system CPU time per hash (getrusage).
func BenchmarkIDKeyParallel(b *testing.B) {
	const goroutines = 4
	const tm, mem, threads, keyLen = 2, 19456, 1, 32
	run := func(b *testing.B, newDerive func() func(pw, salt []byte) []byte) {
		b.ReportAllocs()
		// One warm-up hash per goroutine outside the measurement: a slot's
		// area is made once for the life of the process.
		derives := make([]func(pw, salt []byte) []byte, goroutines)
		for i := range derives {
			derives[i] = newDerive()
			derives[i](password, salt)
		}
		var next atomic.Int64
		var wg sync.WaitGroup
		r0 := rusage()
		b.ResetTimer()
		for _, derive := range derives {
			wg.Go(func() {
				for next.Add(1) <= int64(b.N) {
					derive(password, salt)
				}
			})
		}
		wg.Wait()
		b.StopTimer()
		r1 := rusage()
		b.ReportMetric(float64(r1.minflt-r0.minflt)/float64(b.N), "minflt/op")
		b.ReportMetric(float64(r1.sysNs-r0.sysNs)/float64(b.N), "sys-ns/op")
	}
	b.Run("x-crypto", func(b *testing.B) {
		run(b, func() func(pw, salt []byte) []byte {
			return func(pw, salt []byte) []byte { return upstream.IDKey(pw, salt, tm, mem, threads, keyLen) }
		})
	})
	b.Run("memory", func(b *testing.B) {
		run(b, func() func(pw, salt []byte) []byte {
			m := new(Memory)
			return func(pw, salt []byte) []byte { return m.IDKey(pw, salt, tm, mem, threads, keyLen) }
		})
	})
}

// processBlockGeneric (the pure-Go compression, used where there is no
// assembly) agrees with processBlock and processBlockXOR of this platform.
func TestProcessBlockGeneric(t *testing.T) {
	var in1, in2, out0 block
	for i := range in1 {
		in1[i] = uint64(i)*0x9e3779b97f4a7c15 + 1
		in2[i] = uint64(i) * 0xc2b2ae3d27d4eb4f
		out0[i] = ^uint64(i)
	}
	for _, xor := range []bool{false, true} {
		want, got := out0, out0
		processBlockGeneric(&want, &in1, &in2, xor)
		if xor {
			processBlockXOR(&got, &in1, &in2)
		} else {
			processBlock(&got, &in1, &in2)
		}
		if got != want {
			t.Fatalf("xor=%v: processBlock and processBlockGeneric differ", xor)
		}
	}
}
