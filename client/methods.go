package client

import (
	"context"
	"encoding/json"

	"partnergate/methods/auth/authwire"
	"partnergate/methods/dev/devwire"
	"partnergate/methods/system/systemwire"
)

// Typed methods, one per registered method; a test checks none is missing.

// AuthRegisterUser calls auth.registerUser.
func (c *Client) AuthRegisterUser(ctx context.Context, p authwire.RegisterUserParams) (authwire.RegisterUserResult, error) {
	var r authwire.RegisterUserResult
	return r, c.Call(ctx, "auth.registerUser", p, &r)
}

// AuthGetUserByEmailAndPassword calls auth.getUserByEmailAndPassword.
func (c *Client) AuthGetUserByEmailAndPassword(ctx context.Context, p authwire.GetUserParams) (authwire.GetUserResult, error) {
	var r authwire.GetUserResult
	return r, c.Call(ctx, "auth.getUserByEmailAndPassword", p, &r)
}

// SystemPing calls system.ping.
func (c *Client) SystemPing(ctx context.Context) (systemwire.PingResult, error) {
	var r systemwire.PingResult
	return r, c.Call(ctx, "system.ping", nil, &r)
}

// SystemTime calls system.time.
func (c *Client) SystemTime(ctx context.Context) (systemwire.TimeResult, error) {
	var r systemwire.TimeResult
	return r, c.Call(ctx, "system.time", nil, &r)
}

// SystemVersion calls system.version.
func (c *Client) SystemVersion(ctx context.Context) (systemwire.VersionResult, error) {
	var r systemwire.VersionResult
	return r, c.Call(ctx, "system.version", nil, &r)
}

// RPCDiscover calls rpc.discover and returns the OpenRPC document.
func (c *Client) RPCDiscover(ctx context.Context) (json.RawMessage, error) {
	var r json.RawMessage
	return r, c.Call(ctx, "rpc.discover", nil, &r)
}

// DevOutboxList calls dev.outbox.list (dev mode only).
func (c *Client) DevOutboxList(ctx context.Context, p devwire.OutboxParams) (devwire.OutboxResult, error) {
	var r devwire.OutboxResult
	return r, c.Call(ctx, "dev.outbox.list", p, &r)
}
