#!/usr/bin/env bash
# Interop check with the real Salesforce CLI: `sf org login jwt` against certmint's
# emulator must complete. Installs a pinned @salesforce/cli into a scratch directory
# with npm (Node.js 20: undici is pinned to 7.10.0, because newer undici needs Node 22's
# zstd), makes a certmint directory, starts the emulator with its certificate, and logs in.
#   scripts/sf-cli-check.sh [path/to/certmint]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/debug/certmint}"
[ -x "$bin" ] || cargo build --locked
work="$(mktemp -d)"
trap 'kill "${emu_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

cat > "$work/package.json" <<'JSON'
{ "dependencies": { "@salesforce/cli": "2.108.6" }, "overrides": { "undici": "7.10.0" } }
JSON
(cd "$work" && npm install --no-audit --no-fund >/dev/null 2>&1)
sf="$work/node_modules/.bin/sf"
export HOME="$work/home" SF_DISABLE_TELEMETRY=true SF_AUTOUPDATE_DISABLE=true
mkdir -p "$HOME"
echo "sf: $("$sf" --version 2>/dev/null | tail -1)"

export CERT_PASS=sf-cli-check-pass
"$bin" -q init "$work/dir" --cn sf-cli-check --passout env:CERT_PASS
"$bin" emulate --cert "$work/dir/current/server.crt" --client-id SFCLI --user sf@certmint.example \
  --listen 127.0.0.1:0 > "$work/emu.out" 2> "$work/emu.err" &
emu_pid=$!
for _ in $(seq 50); do [ -s "$work/emu.out" ] && break; sleep 0.1; done
url="$(head -1 "$work/emu.out")"
echo "emulator: $url"
"$sf" org login jwt --client-id SFCLI --username sf@certmint.example \
  --jwt-key-file "$work/dir/current/server.key" --instance-url "$url" --json > "$work/sf.json" 2>/dev/null
python3 - "$work/sf.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == 0, r
assert r["result"]["username"] == "sf@certmint.example", r
print("sf org login jwt: OK, org", r["result"]["orgId"], "(token not shown)")
PY
echo "emulator log:"; sed -n '7,$p' "$work/emu.err"
