package gatehouse

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"runtime"
	"sync/atomic"
	"unicode/utf8"
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
//
// Close on a nil or zero User returns an error.
func (u *User) Close() error {
	if err := u.valid(); err != nil {
		return err
	}
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

// valid reports an error for a nil User or one not made by this package (the zero User).
func (u *User) valid() error {
	if u == nil {
		return &Error{Op: "user", Code: CodeInvalidArgument, Message: "nil *User"}
	}
	if u.lib == nil {
		return &Error{Op: "user", Code: CodeInvalidArgument, Message: "zero User: create users with NewUserBuilder or NewUserFromJSON"}
	}
	return nil
}

func (u *User) get() (uint64, error) {
	if err := u.valid(); err != nil {
		return 0, err
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

// The With methods return the builder. On a nil *UserBuilder they do nothing and return nil, and
// Build then returns an error.

func (b *UserBuilder) WithUserID(id string) *UserBuilder {
	if b != nil {
		b.u.UserID = id
	}
	return b
}

func (b *UserBuilder) WithEmail(email string) *UserBuilder {
	if b != nil {
		b.u.Email = email
	}
	return b
}

func (b *UserBuilder) WithIP(ip string) *UserBuilder {
	if b != nil {
		b.u.IP = ip
	}
	return b
}

func (b *UserBuilder) WithUserAgent(ua string) *UserBuilder {
	if b != nil {
		b.u.UserAgent = ua
	}
	return b
}

func (b *UserBuilder) WithCountry(country string) *UserBuilder {
	if b != nil {
		b.u.Country = country
	}
	return b
}

func (b *UserBuilder) WithLocale(locale string) *UserBuilder {
	if b != nil {
		b.u.Locale = locale
	}
	return b
}

func (b *UserBuilder) WithAppVersion(v string) *UserBuilder {
	if b != nil {
		b.u.AppVersion = v
	}
	return b
}

// WithCustomID sets one custom ID (unit type name → value).
func (b *UserBuilder) WithCustomID(idType, value string) *UserBuilder {
	if b == nil {
		return nil
	}
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
	if b == nil {
		return nil
	}
	if b.u.Custom == nil {
		b.u.Custom = map[string]any{}
	}
	maps.Copy(b.u.Custom, custom)
	return b
}

// WithPrivateAttributes adds private attributes: used for evaluation, never logged.
func (b *UserBuilder) WithPrivateAttributes(attrs map[string]any) *UserBuilder {
	if b == nil {
		return nil
	}
	if b.u.PrivateAttributes == nil {
		b.u.PrivateAttributes = map[string]any{}
	}
	maps.Copy(b.u.PrivateAttributes, attrs)
	return b
}

// WithEnvironment sets the user's environment tier (statsigEnvironment.tier), which overrides
// the client's Environment for this user.
func (b *UserBuilder) WithEnvironment(tier string) *UserBuilder {
	if b != nil {
		b.u.StatsigEnvironment = map[string]string{"tier": tier}
	}
	return b
}

// JSON is the user as the library receives it. Every string — fields, custom ID types and
// values, custom and private attribute keys and values at any depth — must be valid UTF-8: an
// invalid one is an error (matching ErrInvalidUTF8) naming the field, e.g. `email` or
// `custom.plan`, rather than being replaced with U+FFFD.
func (b *UserBuilder) JSON() ([]byte, error) {
	const op = "UserBuilder.Build"
	if b == nil {
		return nil, &Error{Op: op, Code: CodeInvalidArgument, Message: "nil *UserBuilder"}
	}
	u := &b.u
	if err := checkUTF8(op, "userID", u.UserID, "email", u.Email, "ip", u.IP, "userAgent", u.UserAgent,
		"country", u.Country, "locale", u.Locale, "appVersion", u.AppVersion,
		"statsigEnvironment.tier", u.StatsigEnvironment["tier"]); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		v    any
	}{{"customIDs", u.CustomIDs}, {"custom", u.Custom}, {"privateAttributes", u.PrivateAttributes}} {
		if err := checkValueUTF8(op, f.name, reflect.ValueOf(f.v), 0); err != nil {
			return nil, err
		}
	}
	data, err := json.Marshal(u)
	if err != nil {
		return nil, &Error{Op: op, Code: CodeInvalidUser, Message: err.Error()}
	}
	return data, nil
}

// checkValueUTF8 walks v as encoding/json would marshal it and returns utf8Error for the first
// string (a map key or a value, at any depth) that is not valid UTF-8, naming its path.
func checkValueUTF8(op, path string, v reflect.Value, depth int) error {
	if depth > 100 || !v.IsValid() {
		return nil // deeper (or cyclic) values: json.Marshal reports them
	}
	switch v.Kind() {
	case reflect.String:
		if !utf8.ValidString(v.String()) {
			return utf8Error(op, path, v.String())
		}
	case reflect.Interface, reflect.Pointer:
		if !v.IsNil() {
			return checkValueUTF8(op, path, v.Elem(), depth+1)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // bytes: marshalled as base64
		}
		for i := 0; i < v.Len(); i++ {
			if err := checkValueUTF8(op, fmt.Sprintf("%s[%d]", path, i), v.Index(i), depth+1); err != nil {
				return err
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			k := it.Key()
			key := fmt.Sprint(k.Interface())
			if k.Kind() == reflect.String && !utf8.ValidString(k.String()) {
				return utf8Error(op, path+" (a key)", k.String())
			}
			if err := checkValueUTF8(op, path+"."+key, it.Value(), depth+1); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() || f.Tag.Get("json") == "-" {
				continue
			}
			if err := checkValueUTF8(op, path+"."+f.Name, v.Field(i), depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// Build creates the user in the library (loading it if needed).
func (b *UserBuilder) Build() (*User, error) {
	data, err := b.JSON()
	if err != nil {
		return nil, err
	}
	return NewUserFromJSON(data)
}
