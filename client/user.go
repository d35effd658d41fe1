package client

import (
	"context"

	"partnergate/methods/user/userwire"
)

// Seed 000, user.*.

// UserAuthRegistration calls user.auth.registration and returns the user id.
func (c *Client) UserAuthRegistration(ctx context.Context, p userwire.RegistrationParams) (string, error) {
	var id string
	return id, c.Call(ctx, "user.auth.registration", p, &id)
}

// UserAuthVerify calls user.auth.verify.
func (c *Client) UserAuthVerify(ctx context.Context, p userwire.VerifyParams) (userwire.Object, error) {
	var r userwire.Object
	return r, c.Call(ctx, "user.auth.verify", p, &r)
}

// UserAuthResend calls user.auth.resend.
func (c *Client) UserAuthResend(ctx context.Context, p userwire.ResendParams) (bool, error) {
	var r bool
	return r, c.Call(ctx, "user.auth.resend", p, &r)
}

// UserAuthLogin calls user.auth.login.
func (c *Client) UserAuthLogin(ctx context.Context, p userwire.LoginParams) (userwire.Object, error) {
	var r userwire.Object
	return r, c.Call(ctx, "user.auth.login", p, &r)
}

// UserAuthCheck calls user.auth.check with the client's session.
func (c *Client) UserAuthCheck(ctx context.Context) (userwire.Object, error) {
	var r userwire.Object
	return r, c.Call(ctx, "user.auth.check", nil, &r)
}

// UserAuthRecovery calls user.auth.recovery.
func (c *Client) UserAuthRecovery(ctx context.Context, p userwire.RecoveryParams) (userwire.RecoveryResult, error) {
	var r userwire.RecoveryResult
	return r, c.Call(ctx, "user.auth.recovery", p, &r)
}

// UserAuthRecoveryDone calls user.auth.recovery_done.
func (c *Client) UserAuthRecoveryDone(ctx context.Context, p userwire.RecoveryDoneParams) (userwire.Object, error) {
	var r userwire.Object
	return r, c.Call(ctx, "user.auth.recovery_done", p, &r)
}

// UserAuthDelete calls user.auth.delete.
func (c *Client) UserAuthDelete(ctx context.Context) (userwire.DeleteResult, error) {
	var r userwire.DeleteResult
	return r, c.Call(ctx, "user.auth.delete", nil, &r)
}

// UserAuthDeleteDone calls user.auth.delete_done.
func (c *Client) UserAuthDeleteDone(ctx context.Context, p userwire.DeleteDoneParams) (bool, error) {
	var r bool
	return r, c.Call(ctx, "user.auth.delete_done", p, &r)
}

// UserSettingsGet calls user.settings.get.
func (c *Client) UserSettingsGet(ctx context.Context) (userwire.SettingsObject, error) {
	var r userwire.SettingsObject
	return r, c.Call(ctx, "user.settings.get", nil, &r)
}

// UserSettingsSet calls user.settings.set.
func (c *Client) UserSettingsSet(ctx context.Context, p userwire.SetParams) (userwire.SettingsObject, error) {
	var r userwire.SettingsObject
	return r, c.Call(ctx, "user.settings.set", p, &r)
}

// UserAuthBlock calls user.auth.block.
func (c *Client) UserAuthBlock(ctx context.Context, p userwire.BlocksParams) (bool, error) {
	var r bool
	return r, c.Call(ctx, "user.auth.block", p, &r)
}

// UserAuthWebsocket calls user.auth.websocket and returns a socket ticket.
func (c *Client) UserAuthWebsocket(ctx context.Context) (userwire.SocketTicket, error) {
	var r userwire.SocketTicket
	return r, c.Call(ctx, "user.auth.websocket", nil, &r)
}

// UserDataBackup calls user.data.backup.
func (c *Client) UserDataBackup(ctx context.Context, p userwire.DataBackupParams) (bool, error) {
	var r bool
	return r, c.Call(ctx, "user.data.backup", p, &r)
}

// UserProductsGet calls user.products.get.
func (c *Client) UserProductsGet(ctx context.Context) ([]userwire.ProductsItem, error) {
	var r []userwire.ProductsItem
	return r, c.Call(ctx, "user.products.get", nil, &r)
}

// UserProductsActivate calls user.products.activate.
func (c *Client) UserProductsActivate(ctx context.Context, p userwire.ProductsChangeParams) (userwire.ProductsActivateResult, error) {
	var r userwire.ProductsActivateResult
	return r, c.Call(ctx, "user.products.activate", p, &r)
}

// UserProductsDeactivate calls user.products.deactivate.
func (c *Client) UserProductsDeactivate(ctx context.Context, p userwire.ProductsChangeParams) (userwire.ProductsDeactivateResult, error) {
	var r userwire.ProductsDeactivateResult
	return r, c.Call(ctx, "user.products.deactivate", p, &r)
}

// UserTrackingSet calls user.tracking.set.
func (c *Client) UserTrackingSet(ctx context.Context, p userwire.TrackingSetParams) (bool, error) {
	var r bool
	return r, c.Call(ctx, "user.tracking.set", p, &r)
}
