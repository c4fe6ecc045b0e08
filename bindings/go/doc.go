// Package gatehouse is the Go binding of gatehouse, a Statsig-spec feature-gate engine in Rust,
// over its C ABI (libgatehouse_ffi). It uses purego, so it needs no cgo: it builds and runs with
// CGO_ENABLED=0.
//
//	client, err := gatehouse.NewClient(gatehouse.Options{SpecsFile: "specs.json"})
//	if err != nil { … }
//	defer client.Shutdown()
//	if err := client.Initialize(); err != nil { … }
//	user, err := gatehouse.NewUserBuilder().WithUserID("42").WithEmail("a@b.co").Build()
//	if err != nil { … }
//	defer user.Close()
//	on, err := client.CheckGate(user, "new_checkout")
//
// # The library
//
// The shared library is loaded on first use (or by LoadLibrary) with dlopen(RTLD_NOW|
// RTLD_GLOBAL) from, in order: $GATEHOUSE_LIB (only there, when set); next to the executable;
// ../../target/release of the gatehouse checkout this package's source is in (development, and
// modules that `replace` it with a local path); /usr/local/lib; the dynamic loader's own search
// (LD_LIBRARY_PATH, ld.so.cache, /lib, /usr/lib). The first library found whose
// gatehouse_abi_version() equals ABIVersion is used; a *LoadError lists every place tried and what
// was there.
//
// # No wrong results
//
// No foreign function returns a pointer, every output is written into Go-owned memory, and every
// evaluation carries a fresh token that the result must echo (ErrResultMismatch otherwise): a
// concurrency bug below this package (such as the purego v0.9–v0.10.0 return-value race,
// ebitengine/purego#451) becomes an error, never another call's answer. At load the package also
// refuses (*PuregoVersionError) to run in a program that links an affected purego version.
// See README.md for the details and what to put in go.mod.
//
// # Errors
//
// Failures are errors, never panics: *Error carries the ABI status (match with errors.Is against
// ErrNotFound, ErrInitFailed, ErrInvalidUTF8, …); ErrClosed is a call on a shut-down Client or a
// closed User (and a layer parameter read that could not log its exposure because the client was
// shut down or the Layer closed). Methods on nil or zero values return errors too.
package gatehouse
