#!/usr/bin/env bash
# Supply chain: check every locked crate against the RustSec advisory database and fail on
# any advisory that deny.toml does not explain. The live database (github.com) is used
# when it can be fetched; otherwise the dated snapshot in ../shared/advisory-db (a copy of
# rustsec/advisory-db, see its SNAPSHOT file), which cargo-deny reads only from a git
# repository under its db-path. Either way the log says which database and which date.
#   scripts/advisories.sh [SNAPSHOT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

if cargo deny fetch db >/dev/null 2>&1; then
  db="$(find "${CARGO_HOME:-$HOME/.cargo}/advisory-dbs" -mindepth 1 -maxdepth 1 -type d -name 'advisory-db-*' | head -1)"
  when="$(git -C "$db" log -1 --format='%H, committed %cs' 2>/dev/null || echo 'date unknown')"
  echo "advisories: live RustSec database (github.com/rustsec/advisory-db, $when)"
  cargo deny check advisories
  exit
fi

snapshot="${1:-}"
if [ -z "$snapshot" ]; then
  for c in ../shared/advisory-db /work/shared/advisory-db; do
    [ -f "$c/SNAPSHOT" ] && { snapshot="$c"; break; }
  done
fi
if [ -z "$snapshot" ] || [ ! -f "$snapshot/SNAPSHOT" ]; then
  echo "advisories: NOT CHECKED: the live RustSec database is unreachable and no snapshot was found (../shared/advisory-db)" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# cargo-deny's directory name for the default database URL.
repo="$work/db/advisory-db-3157b0e258782691"
mkdir -p "$work/db"
cp -r "$snapshot" "$repo"
git -C "$repo" init -q
git -C "$repo" add -A
git -C "$repo" -c user.email=ci@certmint.invalid -c user.name=ci commit -qm snapshot
touch "$repo/.git/FETCH_HEAD"
# The same configuration, with db-path pointing at the snapshot.
sed "0,/^\[advisories\]$/s##[advisories]\ndb-path = \"$work/db\"#" deny.toml > "$work/deny.toml"
echo "advisories: offline snapshot ($(sed -n 2p "$snapshot/SNAPSHOT"))"
cargo deny --offline --config "$work/deny.toml" check advisories

# Canary: the same check without deny.toml's one explained advisory must fail, which
# proves the database was read (an empty or unreadable database would pass everything).
grep -v 'id = "RUSTSEC-2023-0071"' "$work/deny.toml" > "$work/canary.toml"
if cargo deny --offline --config "$work/canary.toml" check advisories >/dev/null 2>&1; then
  echo "advisories: the snapshot did not report RUSTSEC-2023-0071 with its ignore removed: the database was not read" >&2
  exit 1
fi
echo "advisories: canary ok (RUSTSEC-2023-0071 is reported when its ignore is removed)"
