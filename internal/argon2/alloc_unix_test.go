//go:build unix

package argon2

import (
	"bytes"
	"runtime"
	"testing"

	upstream "golang.org/x/crypto/argon2"
)

// On Unix a work area lives outside the Go heap, so keeping one does not
// raise the heap the collector paces itself by; Free gives it back and the
// Memory stays usable.
func TestMemoryOffHeap(t *testing.T) {
	const kib = 16 * 1024
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m := new(Memory)
	salt := []byte("somesaltsomesalt")
	got := m.IDKey([]byte("pw"), salt, 1, kib, 1, 32)
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > kib*1024/2 {
		t.Fatalf("the heap grew by %d bytes for a %d KiB area", grew, kib)
	}
	if m.Len() != kib || m.area.mapping == nil {
		t.Fatalf("Len %d, mapped %v", m.Len(), m.area.mapping != nil)
	}
	want := upstream.IDKey([]byte("pw"), salt, 1, kib, 1, 32)
	if !bytes.Equal(got, want) {
		t.Fatal("off-heap area gives another key than upstream")
	}
	m.Free()
	if m.Len() != 0 {
		t.Fatalf("Len after Free = %d", m.Len())
	}
	if again := m.IDKey([]byte("pw"), salt, 1, kib, 1, 32); !bytes.Equal(again, want) {
		t.Fatal("a Memory used after Free gives another key")
	}
	m.Free()
	m.Free() // twice is harmless
}
