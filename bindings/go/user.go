package gatehouse

import (
	"encoding/json"
	"maps"
	"runtime"
	"sync/atomic"
)

// User is a user parsed once by the library and reusable across calls, goroutines and clients.
// Its memory on the library side is released by Close; a cleanup releases it when the User
// becomes unreachable without Close (a backstop: call Close when you are done with a user
// that you create per request).
type User struct {
	handle  atomic.Uint64 // 0 once closed
	cleanup runtime.Cleanup
	lib     *library
}

// NewUserFromJSON parses a user from the Statsig user JSON shape (userID, customIDs, email, ip,
// userAgent, country, locale, appVersion, custom, privateAttributes, statsigEnvironment).
func NewUserFromJSON(userJSON []byte) (*User, error) {
	l, err := lib()
	if err != nil {
		return nil, err
	}
	s := getScratch()
	defer putScratch(s)
	if st := l.callUserNew(userJSON, s); st != int32(CodeOK) {
		return nil, statusError("NewUser", st, s.message())
	}
	u := &User{lib: l}
	h := s.handle
	u.handle.Store(h)
	u.cleanup = runtime.AddCleanup(u, releaseUser, userRelease{l, h})
	return u, nil
}

type userRelease struct {
	l *library
	h uint64
}

func releaseUser(r userRelease) { r.l.callHandle(r.l.userRelease, r.h) }

// Close releases the user's library memory. Calls already running with it finish normally;
// later calls return ErrClosed. Closing twice is harmless.
func (u *User) Close() error {
	h := u.handle.Swap(0)
	if h == 0 {
		return nil
	}
	u.cleanup.Stop()
	if st := u.lib.callHandle(u.lib.userRelease, h); st != int32(CodeOK) {
		return statusError("User.Close", st, "")
	}
	return nil
}

func (u *User) get() (uint64, error) {
	if u == nil {
		return 0, &Error{Op: "user", Code: CodeInvalidArgument, Message: "nil *User"}
	}
	h := u.handle.Load()
	if h == 0 {
		return 0, ErrClosed
	}
	return h, nil
}

// UserBuilder builds a User. Build does not change the builder, so one builder can make many
// users.
type UserBuilder struct {
	u userJSON
}

type userJSON struct {
	UserID             string            `json:"userID,omitempty"`
	CustomIDs          map[string]string `json:"customIDs,omitempty"`
	Email              string            `json:"email,omitempty"`
	IP                 string            `json:"ip,omitempty"`
	UserAgent          string            `json:"userAgent,omitempty"`
	Country            string            `json:"country,omitempty"`
	Locale             string            `json:"locale,omitempty"`
	AppVersion         string            `json:"appVersion,omitempty"`
	Custom             map[string]any    `json:"custom,omitempty"`
	PrivateAttributes  map[string]any    `json:"privateAttributes,omitempty"`
	StatsigEnvironment map[string]string `json:"statsigEnvironment,omitempty"`
}

// NewUserBuilder starts an empty user.
func NewUserBuilder() *UserBuilder { return &UserBuilder{} }

// NewUserBuilderWithUserID starts a user with a user ID.
func NewUserBuilderWithUserID(userID string) *UserBuilder {
	return NewUserBuilder().WithUserID(userID)
}

// NewUserBuilderWithCustomIDs starts a user with custom IDs (e.g. {"companyID": "c1"}).
func NewUserBuilderWithCustomIDs(customIDs map[string]string) *UserBuilder {
	return NewUserBuilder().WithCustomIDs(customIDs)
}

func (b *UserBuilder) WithUserID(id string) *UserBuilder       { b.u.UserID = id; return b }
func (b *UserBuilder) WithEmail(email string) *UserBuilder     { b.u.Email = email; return b }
func (b *UserBuilder) WithIP(ip string) *UserBuilder           { b.u.IP = ip; return b }
func (b *UserBuilder) WithUserAgent(ua string) *UserBuilder    { b.u.UserAgent = ua; return b }
func (b *UserBuilder) WithCountry(country string) *UserBuilder { b.u.Country = country; return b }
func (b *UserBuilder) WithLocale(locale string) *UserBuilder   { b.u.Locale = locale; return b }
func (b *UserBuilder) WithAppVersion(v string) *UserBuilder    { b.u.AppVersion = v; return b }

// WithCustomID sets one custom ID (unit type name → value).
func (b *UserBuilder) WithCustomID(idType, value string) *UserBuilder {
	if b.u.CustomIDs == nil {
		b.u.CustomIDs = map[string]string{}
	}
	b.u.CustomIDs[idType] = value
	return b
}

// WithCustomIDs adds custom IDs.
func (b *UserBuilder) WithCustomIDs(ids map[string]string) *UserBuilder {
	for k, v := range ids {
		b.WithCustomID(k, v)
	}
	return b
}

// WithCustom adds custom fields (values: strings, numbers, booleans, slices, maps).
func (b *UserBuilder) WithCustom(custom map[string]any) *UserBuilder {
	if b.u.Custom == nil {
		b.u.Custom = map[string]any{}
	}
	maps.Copy(b.u.Custom, custom)
	return b
}

// WithPrivateAttributes adds private attributes: used for evaluation, never logged.
func (b *UserBuilder) WithPrivateAttributes(attrs map[string]any) *UserBuilder {
	if b.u.PrivateAttributes == nil {
		b.u.PrivateAttributes = map[string]any{}
	}
	maps.Copy(b.u.PrivateAttributes, attrs)
	return b
}

// WithEnvironment sets the user's environment tier (statsigEnvironment.tier), which overrides
// the client's Environment for this user.
func (b *UserBuilder) WithEnvironment(tier string) *UserBuilder {
	b.u.StatsigEnvironment = map[string]string{"tier": tier}
	return b
}

// JSON is the user as the library receives it.
func (b *UserBuilder) JSON() ([]byte, error) {
	data, err := json.Marshal(&b.u)
	if err != nil {
		return nil, &Error{Op: "UserBuilder.Build", Code: CodeInvalidUser, Message: err.Error()}
	}
	return data, nil
}

// Build creates the user in the library (loading it if needed).
func (b *UserBuilder) Build() (*User, error) {
	data, err := b.JSON()
	if err != nil {
		return nil, err
	}
	return NewUserFromJSON(data)
}
