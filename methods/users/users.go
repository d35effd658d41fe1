// Package users serves seed 003's (the chat users API's) users.*
// namespace: username registration with per-device sessions, Basic login,
// the current user, password change, account keys, profile and device
// updates, the user's devices, public user info and search, deletion. The
// rules live in core/accounts (device sessions, usernames, account keys,
// search) and core/access (Basic); this is only the dialect.
package users

import (
	"net/http"
	"strings"

	"partnergate/core/access"
	"partnergate/core/accounts"
	"partnergate/core/fault"
	"partnergate/core/files"
	"partnergate/core/photos"
	"partnergate/methods/users/userswire"
	"partnergate/rpc"
	"partnergate/store"
)

// Service is the users.* namespace.
type Service struct {
	Accounts *accounts.Service
	// Photos serves users.me.photos.*; nil leaves them unregistered and
	// every UserInfo without photos.
	Photos *photos.Service
}

// Methods declares the namespace for the registry.
func (s *Service) Methods() []rpc.Method {
	ms := s.methods()
	if s.Photos != nil {
		ms = append(ms,
			rpc.Method{Name: "users.me.photos.add", Go: "PhotosAdd", Access: rpc.SessionUser, RateClass: "default",
				Doc: "Adds an upload of files.create to the user's photos; photos are served to signed-in users."},
			rpc.Method{Name: "users.me.photos.delete", Go: "PhotosDelete", Access: rpc.SessionUser, RateClass: "default", Positional: []string{"id"},
				Doc: "Deletes one of the user's photos together with its file."})
	}
	return ms
}

func (s *Service) methods() []rpc.Method {
	return []rpc.Method{
		{Name: "users.register", Go: "Register", Access: rpc.Public, RateClass: "register",
			Doc: "Registers a user by name, username and password and logs in the device of deviceInfo; returns UserInfo with deviceSession.accessToken."},
		{Name: "users.login", Go: "Login", Access: rpc.BasicCredentials, RateClass: "login",
			Doc: "Logs in with Authorization: Basic (username:password) from the device of deviceInfo, replacing that device's session; returns UserInfo with deviceSession.accessToken."},
		{Name: "users.me", Go: "Me", Access: rpc.SessionUser, RateClass: "default",
			Doc: "Returns the current user and the current device session."},
		{Name: "users.me.logout", Go: "Logout", Access: rpc.SessionUser, RateClass: "default",
			Doc: "Ends the current device's session."},
		{Name: "users.me.changePassword", Go: "ChangePassword", Access: rpc.SessionUser, RateClass: "login",
			Doc: "Changes the password (the old one required) and ends every other session of the user."},
		{Name: "users.me.setAccountKey", Go: "SetAccountKey", Access: rpc.SessionUser, RateClass: "login",
			Doc: "Sets the account key that users.resetPassword accepts (the password required); the key is stored hashed."},
		{Name: "users.resetPassword", Go: "ResetPassword", Access: rpc.Public, RateClass: "login",
			Doc: "Sets a new password with the user id and account key, and ends every session of the user."},
		{Name: "users.me.update", Go: "Update", Access: rpc.SessionUser, RateClass: "default",
			Doc: "Changes the name and about text."},
		{Name: "users.me.device.update", Go: "DeviceUpdate", Access: rpc.SessionUser, RateClass: "default",
			Doc: "Changes the current device's name and push token (APNS or FCM)."},
		{Name: "users.me.devices.list", Go: "DevicesList", Access: rpc.SessionUser, RateClass: "default",
			Doc: "Lists the user's device sessions."},
		{Name: "users.me.devices.delete", Go: "DevicesDelete", Access: rpc.SessionUser, RateClass: "default",
			Positional: []string{"deviceId"},
			Doc:        "Ends the session of one of the user's devices (a lost phone), without a password change."},
		{Name: "users.me.delete", Go: "Delete", Access: rpc.BasicCredentials, RateClass: "login",
			Doc: "Deletes the user of Authorization: Basic (username:password) with everything tied to it."},
		{Name: "users.get", Go: "Get", Access: rpc.SessionUser, RateClass: "default", Positional: []string{"id"},
			Doc: "Returns a user's public info (the minimum when the user has privacy mode on)."},
		{Name: "users.search", Go: "Search", Access: rpc.SessionUser, RateClass: "default", Positional: []string{"s"},
			Doc: "Finds active users whose name or username contains s, exact matches first, then prefixes."},
	}
}

func (s *Service) device(d userswire.DeviceInfo) (store.Device, error) {
	return accounts.ParseDevice(d.DeviceID, d.DeviceName, d.DeviceModel, d.DeviceToken)
}

func deviceSession(ss store.Session, current string) *userswire.DeviceSession {
	return &userswire.DeviceSession{
		DeviceID: ss.Device.ID, DeviceName: ss.Device.Name, DeviceModel: ss.Device.Model,
		DeviceTokenType: accounts.PushKind(ss.Device.PushToken),
		CreatedAt:       ss.Created, LastSeenAt: ss.LastSeen, ExpiresAt: ss.ExpiresAt,
		Current: current != "" && ss.TokenHash == current,
	}
}

// info shapes the whole UserInfo of u.
func (s *Service) info(r *http.Request, u store.User) (userswire.UserInfo, error) {
	cp, err := s.Accounts.ChatProfile(r.Context(), u.ID)
	if err != nil {
		return userswire.UserInfo{}, err
	}
	ph, err := s.photos(r, u.ID)
	if err != nil {
		return userswire.UserInfo{}, err
	}
	un, _ := u.Identifier(store.KindUsername)
	created := u.Created
	return userswire.UserInfo{ID: u.ID, Name: cp.Name, Username: un.Value, About: cp.About,
		Photos: ph, CreatedAt: &created}, nil
}

// photos lists a user's photos in the wire form, with the URL the gateway
// serves them at.
func (s *Service) photos(r *http.Request, userID string) ([]userswire.Photo, error) {
	out := []userswire.Photo{}
	if s.Photos == nil {
		return out, nil
	}
	fs, err := s.Photos.List(r.Context(), userID)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		out = append(out, photo(f))
	}
	return out, nil
}

func photo(f store.File) userswire.Photo {
	_, sub, _ := strings.Cut(f.ContentType, "/")
	return userswire.Photo{ID: f.ID, FileType: sub, FileSize: f.Size, URL: files.Path(f.ID)}
}

// loggedIn opens the device's session and shapes the answer.
func (s *Service) loggedIn(r *http.Request, u store.User, d store.Device, res *userswire.UserInfo) error {
	ctx := r.Context()
	sess, err := s.Accounts.NewDeviceSession(ctx, u.ID, d)
	if err != nil {
		return err
	}
	info, err := s.info(r, u)
	if err != nil {
		return err
	}
	now := sess.ExpiresAt.Add(-s.Accounts.Sessions.Absolute)
	info.DeviceSession = &userswire.DeviceSession{
		DeviceID: d.ID, DeviceName: d.Name, DeviceModel: d.Model, DeviceTokenType: accounts.PushKind(d.PushToken),
		AccessToken: sess.Token, CreatedAt: now, LastSeenAt: now, ExpiresAt: sess.ExpiresAt, Current: true,
	}
	*res = info
	return nil
}

// Register is users.register.
func (s *Service) Register(r *http.Request, p *userswire.RegisterParams, res *userswire.UserInfo) error {
	d, err := s.device(p.DeviceInfo)
	if err != nil {
		return err
	}
	u, err := s.Accounts.Register(r.Context(), accounts.Registration{
		Username: p.Username, ChatName: p.Name, Password: p.Password, RequirePassword: true,
	})
	if err != nil {
		return err
	}
	return s.loggedIn(r, u, d, res)
}

// basicLogIn checks the request's Basic credentials through the login
// core: a username, or an email or phone of the same user base.
func (s *Service) basicLogIn(r *http.Request, otpCode string) (store.User, error) {
	name, pw, err := access.BasicFrom(r)
	if err != nil {
		return store.User{}, err
	}
	ctx := r.Context()
	kind, norm := accounts.ParseLogin(name)
	return s.Accounts.LogIn(ctx, accounts.Login{Kind: kind, Norm: norm, Password: pw, IP: rpc.CallerFrom(ctx).IP, Code: otpCode})
}

// Login is users.login.
func (s *Service) Login(r *http.Request, p *userswire.LoginParams, res *userswire.UserInfo) error {
	// The device is checked first: a refusal of it costs no password try.
	d, err := s.device(p.DeviceInfo)
	if err != nil {
		return err
	}
	u, err := s.basicLogIn(r, p.OTPCode)
	if err != nil {
		return err
	}
	return s.loggedIn(r, u, d, res)
}

// Me is users.me.
func (s *Service) Me(r *http.Request, _ *userswire.Empty, res *userswire.UserInfo) error {
	ctx := r.Context()
	c := rpc.CallerFrom(ctx)
	u, err := s.Accounts.User(ctx, c.UserID)
	if err != nil {
		return err
	}
	info, err := s.info(r, u)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(c.SessionHash, "jwt:") {
		ss, err := s.Accounts.CurrentSession(ctx, c.SessionHash)
		if err != nil {
			return err
		}
		if ss.Device.ID != "" {
			info.DeviceSession = deviceSession(ss, c.SessionHash)
		}
	}
	*res = info
	return nil
}

// Logout is users.me.logout.
func (s *Service) Logout(r *http.Request, _ *userswire.Empty, res *bool) error {
	if err := s.Accounts.EndSession(r.Context(), rpc.CallerFrom(r.Context()).SessionHash); err != nil {
		return err
	}
	*res = true
	return nil
}

// ChangePassword is users.me.changePassword.
func (s *Service) ChangePassword(r *http.Request, p *userswire.ChangePasswordParams, res *bool) error {
	c := rpc.CallerFrom(r.Context())
	if err := s.Accounts.ChangePassword(r.Context(), accounts.PasswordChange{UserID: c.UserID, Old: p.OldPassword, New: p.NewPassword, KeepSession: c.SessionHash, IP: c.IP}); err != nil {
		return err
	}
	*res = true
	return nil
}

// SetAccountKey is users.me.setAccountKey.
func (s *Service) SetAccountKey(r *http.Request, p *userswire.SetAccountKeyParams, res *bool) error {
	if err := s.Accounts.SetAccountKey(r.Context(), rpc.CallerFrom(r.Context()).UserID, p.Password, p.AccountKey); err != nil {
		return err
	}
	*res = true
	return nil
}

// ResetPassword is users.resetPassword.
func (s *Service) ResetPassword(r *http.Request, p *userswire.ResetPasswordParams, res *bool) error {
	if err := s.Accounts.ResetPasswordWithKey(r.Context(), p.UserID, p.AccountKey, p.NewPassword); err != nil {
		return err
	}
	*res = true
	return nil
}

// Update is users.me.update.
func (s *Service) Update(r *http.Request, p *userswire.UpdateParams, res *bool) error {
	if p.Name == nil && p.About == nil {
		return fault.Field(fault.Invalid, "name", "nothing to update: send name or about")
	}
	if _, err := s.Accounts.UpdateChatProfile(r.Context(), rpc.CallerFrom(r.Context()).UserID, p.Name, p.About); err != nil {
		return err
	}
	*res = true
	return nil
}

// DeviceUpdate is users.me.device.update.
func (s *Service) DeviceUpdate(r *http.Request, p *userswire.DeviceUpdateParams, res *bool) error {
	if p.DeviceName == nil && p.DeviceToken == nil {
		return fault.Field(fault.Invalid, "deviceName", "nothing to update: send deviceName or deviceToken")
	}
	c := rpc.CallerFrom(r.Context())
	if strings.HasPrefix(c.SessionHash, "jwt:") {
		return fault.Errorf(fault.NotFound, "This session is not a device session.")
	}
	if _, err := s.Accounts.UpdateDevice(r.Context(), c.UserID, c.SessionHash, p.DeviceName, p.DeviceToken); err != nil {
		return err
	}
	*res = true
	return nil
}

// DevicesList is users.me.devices.list.
func (s *Service) DevicesList(r *http.Request, _ *userswire.Empty, res *[]userswire.DeviceSession) error {
	c := rpc.CallerFrom(r.Context())
	list, err := s.Accounts.DeviceSessions(r.Context(), c.UserID)
	if err != nil {
		return err
	}
	out := make([]userswire.DeviceSession, 0, len(list))
	for _, ss := range list {
		out = append(out, *deviceSession(ss, c.SessionHash))
	}
	*res = out
	return nil
}

// DevicesDelete is users.me.devices.delete.
func (s *Service) DevicesDelete(r *http.Request, p *userswire.DevicesDeleteParams, res *bool) error {
	if err := s.Accounts.EndDeviceSession(r.Context(), rpc.CallerFrom(r.Context()).UserID, p.DeviceID); err != nil {
		return err
	}
	*res = true
	return nil
}

// Delete is users.me.delete.
func (s *Service) Delete(r *http.Request, p *userswire.DeleteParams, res *bool) error {
	u, err := s.basicLogIn(r, p.OTPCode)
	if err != nil {
		return err
	}
	if err := s.Accounts.DeleteAccount(r.Context(), u.ID); err != nil {
		return err
	}
	*res = true
	return nil
}

// public shapes what anyone signed in may see of a user: the minimum (id
// and username) when the user has privacy mode on.
func (s *Service) public(r *http.Request, id, username, name, about string, private bool) (userswire.UserInfo, error) {
	out := userswire.UserInfo{ID: id, Username: username, Photos: []userswire.Photo{}}
	if private {
		return out, nil
	}
	ph, err := s.photos(r, id)
	if err != nil {
		return userswire.UserInfo{}, err
	}
	out.Name, out.About, out.Photos = name, about, ph
	return out, nil
}

// Get is users.get. A deactivated or unknown user is not found alike.
func (s *Service) Get(r *http.Request, p *userswire.GetParams, res *userswire.UserInfo) error {
	ctx := r.Context()
	u, err := s.Accounts.User(ctx, p.ID)
	if err != nil {
		return err
	}
	if u.State != store.StateActive {
		return fault.New(fault.NotFound)
	}
	cp, err := s.Accounts.ChatProfile(ctx, u.ID)
	if err != nil {
		return err
	}
	p2, err := s.Accounts.Profile(ctx, u.ID)
	if err != nil {
		return err
	}
	un, _ := u.Identifier(store.KindUsername)
	info, err := s.public(r, u.ID, un.Value, cp.Name, cp.About, p2.PrivacyMode != 0)
	if err != nil {
		return err
	}
	*res = info
	return nil
}

// Search is users.search.
func (s *Service) Search(r *http.Request, p *userswire.SearchParams, res *[]userswire.UserInfo) error {
	ctx := r.Context()
	hits, err := s.Accounts.SearchUsers(ctx, p.S, p.Limit, p.Offset)
	if err != nil {
		return err
	}
	out := make([]userswire.UserInfo, 0, len(hits))
	for _, h := range hits {
		info, err := s.public(r, h.UserID, h.Username, h.Name, h.About, h.Private)
		if err != nil {
			return err
		}
		out = append(out, info)
	}
	*res = out
	return nil
}

// PhotosAdd is users.me.photos.add.
func (s *Service) PhotosAdd(r *http.Request, p *userswire.PhotosAddParams, res *bool) error {
	ctx := r.Context()
	uid := rpc.CallerFrom(ctx).UserID
	if err := s.Photos.Check(ctx, uid, p.Photo.ID, p.Photo.FileType, p.Photo.FileSize); err != nil {
		return err
	}
	if _, err := s.Photos.Add(ctx, uid, p.Photo.ID); err != nil {
		return err
	}
	*res = true
	return nil
}

// PhotosDelete is users.me.photos.delete.
func (s *Service) PhotosDelete(r *http.Request, p *userswire.PhotosDeleteParams, res *bool) error {
	if err := s.Photos.Delete(r.Context(), rpc.CallerFrom(r.Context()).UserID, p.ID); err != nil {
		return err
	}
	*res = true
	return nil
}
