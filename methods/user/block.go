package user

import (
	"errors"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"partnergate/core"
	"partnergate/core/fault"
	"partnergate/methods/user/userwire"
	"partnergate/rpc"
	"partnergate/store"
)

// Block reasons, seed 000's user.auth.block dictionary.
const (
	BlockNoTalk          = 1 // Don't wanna talk anymore (the default)
	BlockSpam            = 2
	BlockHarassment      = 3 // Sexual harassment
	BlockViolence        = 4 // Possible violence
	BlockConfidentiality = 5 // Breach of confidentiality
)

// Blocks serves user.auth.block. A block hides the two users from each
// other: methods that list or look up users filter with
// store.BlockStore.Blocked or BlockedIDs.
type Blocks struct {
	Store store.BlockStore
	Now   func() time.Time
	Log   zerolog.Logger
}

// Methods declares it.
func (s *Blocks) Methods() []rpc.Method {
	return []rpc.Method{
		{Name: "user.auth.block", Go: "Block", Access: rpc.SessionUser, RateClass: "default", Positional: []string{"id", "reason"},
			Doc: "Blocks a user (reason 1 to 5, default 1): each is then hidden from the other. Blocking again only updates the reason."},
	}
}

// Block is user.auth.block. Its data is true. fault.Invalid for a reason
// outside 1 to 5 or the caller's own id; fault.NotFound for an unknown
// user.
func (s *Blocks) Block(r *http.Request, p *userwire.BlocksParams, res *bool) error {
	ctx := r.Context()
	c := rpc.CallerFrom(ctx)
	reason := BlockNoTalk
	if p.Reason != nil {
		reason = *p.Reason
	}
	switch {
	case reason < BlockNoTalk || reason > BlockConfidentiality:
		return fault.Field(fault.Invalid, "reason", "must be 1 to 5")
	case p.ID == "":
		return fault.Field(fault.Invalid, "id", "required")
	case p.ID == c.UserID:
		return fault.Field(fault.Invalid, "id", "cannot block yourself")
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	err := s.Store.PutBlock(ctx, store.Block{BlockerID: c.UserID, BlockedID: p.ID, Reason: reason, Created: now()})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fault.New(fault.NotFound)
	case err != nil:
		return core.StoreError("user: block", err)
	}
	s.Log.Info().Str("event", "user.blocked").Str("user", c.UserID).Str("target", p.ID).Int("reason", reason).
		Str("ip", c.IP).Msg("audit")
	*res = true
	return nil
}
