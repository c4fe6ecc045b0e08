#!/usr/bin/env bash
# The Go binding's checks, as CI runs them (.ci/run calls this after
# `cargo build --release -p gatehouse-ffi`). From anywhere:
#
#   bindings/go/scripts/test.sh
#
# Steps: module download and verification, gofmt, go vet, the whole suite with CGO_ENABLED=0
# (integrity, 1,000,000-user memory test, consumer modules), the example program, the suite
# again under the race detector (-short), and one pass of each benchmark. About 3–4 minutes
# on 2 cores.
#
# The race detector needs cgo on linux/amd64: CGO_ENABLED=1 and a C compiler (gcc or clang).
# Without one the race pass fails, unless GATEHOUSE_GO_SKIP_RACE=1 (then it is skipped, loudly).
# The library is found where the tests look by default (this checkout's target/release);
# GATEHOUSE_LIB overrides that.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(cd ../.. && pwd)

[ -x /usr/local/go/bin/go ] && ! command -v go >/dev/null && export PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || { echo "go not found: install Go 1.25 or later" >&2; exit 1; }
go version
if [ -z "${GATEHOUSE_LIB:-}" ] && [ ! -f "$root/target/release/libgatehouse_ffi.so" ] && [ ! -f "$root/target/release/libgatehouse_ffi.dylib" ]; then
  echo "no $root/target/release/libgatehouse_ffi.so: run \`cargo build --release -p gatehouse-ffi\` first (or set GATEHOUSE_LIB)" >&2
  exit 1
fi

echo "== go: modules"
go mod download
go mod verify

echo "== go: gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
  echo "gofmt -l lists files that need formatting:" >&2
  echo "$unformatted" >&2
  exit 1
fi

echo "== go: vet"
go vet ./...
CGO_ENABLED=0 go vet ./...

echo "== go: tests (CGO_ENABLED=0)"
CGO_ENABLED=0 go test -count=1 -v -timeout 10m ./...

echo "== go: the guard's test-only escape hatch, in a gatehouse_ffi_matrix build (docs/FFI-MATRIX.md)"
CGO_ENABLED=0 go test -count=1 -v -tags gatehouse_ffi_matrix -run 'Guard|Purego' .

echo "== go: example program"
CGO_ENABLED=0 go run ./examples/basic | tail -n 3

echo "== go: tests under the race detector (CGO_ENABLED=1, -short)"
if command -v "${CC:-gcc}" >/dev/null || command -v cc >/dev/null || command -v clang >/dev/null; then
  CGO_ENABLED=1 go test -race -short -count=1 -v -timeout 10m ./...
elif [ "${GATEHOUSE_GO_SKIP_RACE:-}" = 1 ]; then
  echo "!!!!!!!!!! WARNING: no C compiler: the race-detector pass is SKIPPED (GATEHOUSE_GO_SKIP_RACE=1)." >&2
else
  echo "go test -race needs a C compiler (cgo); install gcc, or set GATEHOUSE_GO_SKIP_RACE=1 to skip" >&2
  exit 1
fi

echo "== go: benchmarks (one short pass each, as a smoke test)"
CGO_ENABLED=0 go test -run '^$' -bench . -benchtime 2000x -cpu 1,2 ./...
