-- 0004_outbox_delivery: delivery state for the outbox, so dispatchers (one
-- process or several sharing the database) can claim, send, retry and give
-- up on messages. Bodies written by partnergate/methods/delivery are sealed
-- by the key ring; only the subject is in clear.

-- Deliveries started, counted when a dispatcher claims the message.
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0);
-- When the message is next due. NULL means at created_at: rows written
-- before this migration, or by EnqueueMessage, which does not set it.
ALTER TABLE outbox ADD COLUMN next_attempt_at BIGINT NULL;
-- End of the lease of the dispatcher sending the message; a lease that runs
-- out (a crashed process) makes the message due again.
ALTER TABLE outbox ADD COLUMN claimed_until BIGINT NULL;
-- Error of the latest failed attempt, never the body.
ALTER TABLE outbox ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
-- Set when the attempts ran out: never tried again, kept for inspection.
ALTER TABLE outbox ADD COLUMN dead BOOLEAN NOT NULL DEFAULT FALSE;

-- Claiming scans only pending messages, in due order.
CREATE INDEX outbox_due_idx ON outbox (COALESCE(next_attempt_at, created_at), id)
    WHERE sent_at IS NULL AND NOT dead;
