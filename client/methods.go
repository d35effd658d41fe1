package client

import (
	"context"
	"encoding/json"

	"partnergate/methods/auth"
	"partnergate/methods/dev"
	"partnergate/methods/system"
)

// Typed methods, one per registered method; a test checks none is missing.

// AuthRegisterUser calls auth.registerUser.
func (c *Client) AuthRegisterUser(ctx context.Context, p auth.RegisterUserParams) (auth.RegisterUserResult, error) {
	var r auth.RegisterUserResult
	return r, c.Call(ctx, "auth.registerUser", p, &r)
}

// AuthGetUserByEmailAndPassword calls auth.getUserByEmailAndPassword.
func (c *Client) AuthGetUserByEmailAndPassword(ctx context.Context, p auth.GetUserParams) (auth.GetUserResult, error) {
	var r auth.GetUserResult
	return r, c.Call(ctx, "auth.getUserByEmailAndPassword", p, &r)
}

// SystemPing calls system.ping.
func (c *Client) SystemPing(ctx context.Context) (system.PingResult, error) {
	var r system.PingResult
	return r, c.Call(ctx, "system.ping", nil, &r)
}

// SystemTime calls system.time.
func (c *Client) SystemTime(ctx context.Context) (system.TimeResult, error) {
	var r system.TimeResult
	return r, c.Call(ctx, "system.time", nil, &r)
}

// SystemVersion calls system.version.
func (c *Client) SystemVersion(ctx context.Context) (system.VersionResult, error) {
	var r system.VersionResult
	return r, c.Call(ctx, "system.version", nil, &r)
}

// RPCDiscover calls rpc.discover and returns the OpenRPC document.
func (c *Client) RPCDiscover(ctx context.Context) (json.RawMessage, error) {
	var r json.RawMessage
	return r, c.Call(ctx, "rpc.discover", nil, &r)
}

// DevOutboxList calls dev.outbox.list (dev mode only).
func (c *Client) DevOutboxList(ctx context.Context, p dev.OutboxParams) (dev.OutboxResult, error) {
	var r dev.OutboxResult
	return r, c.Call(ctx, "dev.outbox.list", p, &r)
}
