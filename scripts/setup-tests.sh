#!/usr/bin/env bash
# Installs what certmint's tests need beyond Rust, only what is missing, then the pinned
# Salesforce clients: the one set-up command README.md and CONTRIBUTING.md name, and the
# one .ci/run calls. Idempotent; run it once per machine (again after a clients pin moves).
#
#   scripts/setup-tests.sh            # apt packages (through sudo when not root) + clients
#
# Each `need TOOL PACKAGE` line is a program a test runs; tests/it/docs.rs checks that
# every tool a test requires is listed here. The tests fail, never skip, when one is
# missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
need() { # tool debian-package
  command -v "$1" >/dev/null 2>&1 || missing+=("$2")
}
need openssl openssl                 # interop both ways (tests/it/recipe.rs, keystores.rs)
need keytool default-jdk-headless    # Java reads what certmint writes (jks.rs, pkcs12.rs)
need java default-jdk-headless       # tests/java/*.java, docs/java-teams.md (guides.rs)
need unshare util-linux              # read-only and full disks as root (disk.rs)
need setpriv util-linux              # another user reading a core (security.rs)
need script bsdutils                 # a terminal for the prompts (prompts.rs)
need groff groff                     # the man pages format (help.rs)
need jq jq                           # the docs' `| jq` examples (docs.rs)
need gdb gdb                         # a core of a waiting mint (security.rs, slow tier)
need gcore gdb
need node nodejs                     # the Salesforce CLI and jsforce (clients.rs)
need npm npm
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
# libfaketime: a fixed clock for inspect and check (snapshots.rs, polish.rs).
ls /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1 >/dev/null 2>&1 \
  || missing+=(faketime)

if [ ${#missing[@]} -gt 0 ]; then
  # shellcheck disable=SC2207
  missing=($(printf '%s\n' "${missing[@]}" | sort -u))
  echo "setup-tests: installing ${missing[*]}"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq "${missing[@]}"
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "setup-tests: Node.js $node_major found; the pinned Salesforce CLI needs Node.js 20 or later (https://nodejs.org)" >&2
  exit 1
fi

# The pinned Salesforce CLI, jsforce and simple-salesforce, into target/clients, where the
# tests look for them (or where CERTMINT_CLIENTS_DIR points).
scripts/install-clients.sh "${CERTMINT_CLIENTS_DIR:-target/clients}"
echo "setup-tests: ready; run the README's test command: cargo test --locked --features slow-tests"
