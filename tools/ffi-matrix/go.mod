module github.com/gatehouse-dev/gatehouse/tools/ffi-matrix

go 1.25.0

require (
	github.com/ebitengine/purego v0.11.3
	github.com/gatehouse-dev/gatehouse/bindings/go v0.0.0-00010101000000-000000000000
)

// The matrix builds its cell programs in generated modules (target/ffi-matrix/mod/…) that
// replace purego with each cell's version; this replace only serves go vet and go test here.
replace github.com/gatehouse-dev/gatehouse/bindings/go => ../../bindings/go
