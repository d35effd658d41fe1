//go:build !unix

package argon2

// area is empty where the blocks come from the Go heap.
type area struct{}

func allocBlocks(_ *Memory, n uint32) ([]block, area) { return make([]block, n), area{} }

func (area) free() {}
