#!/usr/bin/env bash
# Classifies every purego version the module proxy serves (from v0.8.0 on) by reading its
# func.go, and writes testdata/purego-scan.txt, which TestGuardAgreesWithSourceScan checks the
# guard's version ranges against (offline). Run by hand when purego publishes new versions:
#
#   bindings/go/scripts/verify-purego.sh
#
# "affected": RegisterFunc takes its syscall struct from thePool and builds a pointer-typed (*T)
# result with reflect.NewAt(outType, unsafe.Pointer(&syscall.a1)) — aliasing the pooled struct,
# which is Put back before the caller copies the result (ebitengine/purego#451).
# "clean": no pool in RegisterFunc (v0.8.x, v0.10.1+, v0.11.0-alpha.3), or a1 is copied into a
# local first (v0.11.0-alpha.4+, #457).
set -euo pipefail
cd "$(dirname "$0")/.."
mod=github.com/ebitengine/purego
out=testdata/purego-scan.txt
# The proxy's list omits some tags that it serves when asked by name (v0.11.0-alpha, whose
# commit is on main between v0.10.0 and v0.11.0-alpha.1); they are added here.
versions="$(go list -m -versions "$mod" | tr ' ' '\n' | tail -n +2) v0.11.0-alpha"
{
  echo "# purego versions served by the module proxy, classified from func.go by scripts/verify-purego.sh"
  echo "# generated $(date -u +%Y-%m-%d) with $(go version | cut -d' ' -f3)"
  for v in $versions; do
    case "$v" in v0.[0-7].*) continue ;; esac # before v0.8.0: no RegisterFunc pool, not supported
    dir=$(go mod download -json "$mod@$v" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    f="$dir/func.go"
    if grep -q 'thePool.Get' "$f" && grep -q 'reflect.NewAt(outType, unsafe.Pointer(&syscall.a1))' "$f"; then
      verdict=affected
    else
      verdict=clean
    fi
    echo "$v $verdict"
  done
} > "$out.tmp"
mv "$out.tmp" "$out"
cat "$out"
