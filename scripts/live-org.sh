#!/usr/bin/env bash
# The org side against a REAL Salesforce org, for whoever has one (issue 19 item 14): the
# same steps and assertions as tests/it/connect.rs makes against the emulator, run through
# the certmint binary against an org the Salesforce CLI is logged in to:
#
#   init; connect --check-only; connect; mint --dir; a second connect (unchanged);
#   renew --deploy (and mint); rotate --deploy (and mint); rotate --deploy --second-app
#   (and mint); rotate --retire-previous (a mint through the retired app refused);
#   disconnect --yes (the apps and the permission set gone).
#
# It cleans up after itself (disconnect on exit, even after a failure), and refuses a
# production org unless --allow-production: a free Developer Edition org
# (https://developer.salesforce.com/signup) or a sandbox is what it is for. No org is
# reachable where certmint is developed, so this script is not part of the test suite;
# CONTRIBUTING.md ("A live-org run") says how to run it and where to record the result
# (docs/live-org.md).
#
# Usage: scripts/live-org.sh ALIAS [--username USER] [--allow-production] [--keep]
#   ALIAS      an org alias or username `sf org list` shows (log in with
#              `sf org login web --alias ALIAS`)
#   --username the integration user (default: the admin of the sf session itself)
#   --keep     keep the working directory and its log (the org is cleaned up anyway)
# Environment: CERTMINT (the binary; default: target/release/certmint, built if missing),
# SF (the Salesforce CLI; default: sf), WAIT (connect's --wait, default 1800).
set -euo pipefail
cd "$(dirname "$0")/.."

alias_name=""
username=""
allow_production=0
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --username) username="${2:?--username needs a value}"; shift 2 ;;
    --allow-production) allow_production=1; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    -*) echo "live-org: unknown option $1" >&2; exit 2 ;;
    *) alias_name="$1"; shift ;;
  esac
done
[ -n "$alias_name" ] || { echo "usage: scripts/live-org.sh ALIAS [--username USER] [--allow-production] [--keep]" >&2; exit 2; }

SF="${SF:-sf}"
WAIT="${WAIT:-1800}"
command -v "$SF" >/dev/null || { echo "live-org: the Salesforce CLI ($SF) is not installed: npm install --global @salesforce/cli" >&2; exit 2; }
command -v jq >/dev/null || { echo "live-org: jq is required (apt-get install jq)" >&2; exit 2; }
if [ -z "${CERTMINT:-}" ]; then
  cargo build --release --locked --quiet
  CERTMINT="$PWD/target/release/certmint"
fi
export SF_DISABLE_TELEMETRY=true

# The org: what kind, and refuse production unless asked.
org_json=$("$SF" data query --target-org "$alias_name" --json \
  --query "SELECT Id, Name, IsSandbox, OrganizationType FROM Organization")
org_id=$(jq -r '.result.records[0].Id' <<<"$org_json")
org_name=$(jq -r '.result.records[0].Name' <<<"$org_json")
sandbox=$(jq -r '.result.records[0].IsSandbox' <<<"$org_json")
edition=$(jq -r '.result.records[0].OrganizationType' <<<"$org_json")
if [ "$sandbox" != "true" ] && [ "$edition" != "Developer Edition" ] && [ "$allow_production" != 1 ]; then
  echo "live-org: $alias_name is a production org ($edition, $org_id): this run creates and deletes an External Client App and a permission set there. Use a Developer Edition org or a sandbox, or pass --allow-production." >&2
  exit 2
fi
display=$("$SF" org display --target-org "$alias_name" --json)
admin=$(jq -r '.result.username' <<<"$display")
instance=$(jq -r '.result.instanceUrl' <<<"$display")
username="${username:-$admin}"

work=$(mktemp -d "${TMPDIR:-/tmp}/certmint-live.XXXXXX")
log="$work/run.log"
dir="$work/live"
stamp=$(date -u +%Y%m%d%H%M%S)
app="certmint_live_$stamp"
export CERT_PASS="live-$stamp-$RANDOM$RANDOM"
passed=0
failed=0
connected=0

say() { printf '%s\n' "$*" | tee -a "$log" >&2; }
cleanup() {
  local code=$?
  if [ "$connected" = 1 ]; then
    say "== cleanup: certmint disconnect (whatever the run left)"
    "$CERTMINT" disconnect "$dir" --target-org "$alias_name" --yes >>"$log" 2>&1 \
      || say "   cleanup FAILED: remove the External Client Apps $app* and the permission set $app in Setup by hand"
  fi
  say "== $passed passed, $failed failed against $org_name ($org_id, $edition, sandbox=$sandbox) at $instance"
  say "   certmint $("$CERTMINT" --version 2>/dev/null | awk '{print $2}'), sf $("$SF" --version 2>/dev/null | head -1)"
  if [ "$keep" = 1 ] || [ "$failed" -gt 0 ]; then
    say "   log: $log (the directory $dir holds the keys of a deleted app)"
  else
    rm -rf "$work"
  fi
  exit "$code"
}
trap cleanup EXIT

# step NAME EXPECTED_EXIT [must-contain] -- command...
step() {
  local name="$1" want="$2" needle="$3"
  shift 4
  say "== $name"
  local out code=0
  out=$("$@" 2>&1) || code=$?
  printf '%s\n' "$out" >>"$log"
  if [ "$code" != "$want" ]; then
    failed=$((failed + 1))
    say "   FAILED: exit $code, expected $want"
    printf '%s\n' "$out" | tail -20 | sed 's/^/   | /' >&2
    return 1
  fi
  if [ -n "$needle" ] && ! grep -qF -- "$needle" <<<"$out"; then
    failed=$((failed + 1))
    say "   FAILED: the output does not say: $needle"
    printf '%s\n' "$out" | tail -20 | sed 's/^/   | /' >&2
    return 1
  fi
  passed=$((passed + 1))
  say "   ok"
}

say "certmint live-org run: $org_name ($org_id, $edition), admin $admin, integration user $username, app $app"
step "init" 0 "" -- "$CERTMINT" init "$dir" --cn "$app" --alias "$app" --passout env:CERT_PASS -u "$username"
step "connect --check-only (changes nothing)" 0 "checked:" -- \
  "$CERTMINT" connect "$dir" --target-org "$alias_name" --check-only
connected=1
step "connect" 0 "connected:" -- \
  "$CERTMINT" connect "$dir" --target-org "$alias_name" --wait "$WAIT"
step "the parts have Salesforce's names" 0 "${app}_oauth_defaultPolicy" -- \
  "$SF" org list metadata --metadata-type ExtlClntAppOauthConfigurablePolicies --target-org "$alias_name"
step "mint --dir" 0 "" -- "$CERTMINT" mint --dir "$dir" --passin env:CERT_PASS
step "a second connect changes nothing" 0 "already connected" -- \
  "$CERTMINT" connect "$dir" --target-org "$alias_name" --wait "$WAIT"
step "renew --deploy" 0 "renewed and deployed" -- \
  "$CERTMINT" renew "$dir" --deploy --target-org "$alias_name" --passin env:CERT_PASS --wait "$WAIT"
step "mint after the renewal" 0 "" -- "$CERTMINT" mint --dir "$dir" --passin env:CERT_PASS
step "rotate --deploy --check-only" 0 "checked:" -- \
  "$CERTMINT" rotate "$dir" --deploy --check-only --target-org "$alias_name" --passin env:CERT_PASS
step "rotate --deploy" 0 "rotated" -- \
  "$CERTMINT" rotate "$dir" --deploy --target-org "$alias_name" --passin env:CERT_PASS --wait "$WAIT"
step "mint after the rotation" 0 "" -- "$CERTMINT" mint --dir "$dir" --passin env:CERT_PASS
step "rotate --deploy --second-app" 0 "rotated onto a second app" -- \
  "$CERTMINT" rotate "$dir" --deploy --second-app --target-org "$alias_name" --passin env:CERT_PASS --wait "$WAIT"
step "mint through the second app" 0 "" -- "$CERTMINT" mint --dir "$dir" --passin env:CERT_PASS
step "rotate --retire-previous (a token through it refused)" 0 "now refused" -- \
  "$CERTMINT" rotate "$dir" --retire-previous --target-org "$alias_name" --passin env:CERT_PASS --wait "$WAIT"
step "disconnect --yes" 0 "disconnected:" -- \
  "$CERTMINT" disconnect "$dir" --target-org "$alias_name" --yes
connected=0
step "the apps are gone" 0 "" -- bash -c \
  "! '$SF' org list metadata --metadata-type ExternalClientApplication --target-org '$alias_name' | grep -q '$app'"
[ "$failed" = 0 ]
