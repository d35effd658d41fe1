//go:build unix

package argon2

import (
	"runtime"
	"syscall"
	"unsafe"
)

// area is an anonymous private mapping and the cleanup that unmaps it if
// its Memory is collected without Free.
type area struct {
	mapping []byte
	cleanup runtime.Cleanup
}

// allocBlocks maps n zeroed blocks outside the Go heap. block holds no
// pointers, so the collector need not see them. If the kernel refuses the
// mapping the blocks come from the heap instead.
func allocBlocks(owner *Memory, n uint32) ([]block, area) {
	size := int(n) * int(unsafe.Sizeof(block{}))
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]block, n), area{}
	}
	blocks := unsafe.Slice((*block)(unsafe.Pointer(&b[0])), n)
	c := runtime.AddCleanup(owner, func(b []byte) { _ = syscall.Munmap(b) }, b)
	return blocks, area{mapping: b, cleanup: c}
}

func (a area) free() {
	if a.mapping == nil {
		return
	}
	a.cleanup.Stop()
	_ = syscall.Munmap(a.mapping)
}
