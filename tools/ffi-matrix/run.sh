#!/usr/bin/env bash
# The concurrent-FFI test matrix (docs/FFI-MATRIX.md, issue 7) in one command, from anywhere:
#
#   tools/ffi-matrix/run.sh --short    # the CI form: workers {2,8,32} × 2 s × 1 run (1.5 min for the matrix; 3–5 min with the first builds)
#   tools/ffi-matrix/run.sh --long     # workers {1,2,4,8,32} × 30 s × 5 runs (hours on 2 cores)
#
# Any other argument goes to the matrix program (cmd/matrix; e.g. --workers 2,32 --runs 3
# --seconds 10 --versions v0.11.3,v0.9.1 --cells dispatch,workload,fault); see `go run
# ./cmd/matrix -h` in tools/ffi-matrix.
#
# Steps: (1) the product library, `cargo build --release -p gatehouse-ffi` (target/release, as
# CI builds it); (2) the test-only builds of gatehouse-ffi, features `naive-abi` and
# `fault-injection`, in their own target directory (target/ffi-matrix/cargo) so they never
# overwrite the product library, copied to target/ffi-matrix/lib/{naive,fault}/; (3) the matrix:
# it compiles testlib/tag.c, builds the cell programs for each purego version in generated
# modules, runs every cell (one child process per run), writes target/ffi-matrix/matrix.{md,json}
# and exits 1 when a CI condition fails.
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
out="$root/target/ffi-matrix"

preset=short
args=()
for a in "$@"; do
  case "$a" in
    --short) preset=short ;;
    --long) preset=long ;;
    *) args+=("$a") ;;
  esac
done
# Paths given to the matrix are relative to where run.sh was called from, not to this directory.
for i in "${!args[@]}"; do
  case "${args[$i]}" in
    -out=* | --out=* | -specs=* | --specs=* | -product-lib=* | --product-lib=* | -naive-lib=* | --naive-lib=* | -fault-lib=* | --fault-lib=*)
      v=${args[$i]#*=}; [ "${v#/}" = "$v" ] && args[i]="${args[$i]%%=*}=$caller/$v" ;;
    -out | --out | -specs | --specs | -product-lib | --product-lib | -naive-lib | --naive-lib | -fault-lib | --fault-lib)
      j=$((i + 1)); v=${args[$j]:-}; [ -n "$v" ] && [ "${v#/}" = "$v" ] && args[j]="$caller/$v" ;;
  esac
done

[ -x /usr/local/go/bin/go ] && ! command -v go >/dev/null && export PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || { echo "go not found: install Go 1.25 or later" >&2; exit 2; }
command -v cargo >/dev/null || { echo "cargo not found: install Rust with rustup" >&2; exit 2; }

echo "== ffi-matrix: the product library (target/release)"
(cd "$root" && cargo build --release -p gatehouse-ffi)

for feature in naive-abi fault-injection; do
  echo "== ffi-matrix: gatehouse-ffi --features $feature (target/ffi-matrix/cargo)"
  (cd "$root" && CARGO_TARGET_DIR="$out/cargo" cargo build --release -p gatehouse-ffi --features "$feature")
  dest="$out/lib/${feature%%-*}" # naive, fault
  mkdir -p "$dest"
  cp "$out/cargo/release/libgatehouse_ffi.so" "$dest/libgatehouse_ffi.so"
done

echo "== ffi-matrix: the matrix ($preset)"
# The library paths are explicit, so that a --out given here only moves the report.
exec go run ./cmd/matrix -preset "$preset" -root "$root" -out "$out" \
  -product-lib "$root/target/release/libgatehouse_ffi.so" \
  -naive-lib "$out/lib/naive/libgatehouse_ffi.so" -fault-lib "$out/lib/fault/libgatehouse_ffi.so" \
  ${args[@]+"${args[@]}"}
