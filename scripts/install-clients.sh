#!/usr/bin/env bash
# Installs the real Salesforce clients that tests/it/clients.rs (and tests/it/connect.rs)
# drive against the emulator, pinned, into target/clients (or the directory given):
# the Salesforce CLI, jsforce and jsonwebtoken from npm (tests/clients/package-lock.json;
# undici is pinned to 7.10.0 so sf 2.108.6 runs on Node.js 20), simple-salesforce with
# PyJWT and cryptography from PyPI (tests/clients/requirements.txt) in a venv.
# The tests find them there, or where CERTMINT_CLIENTS_DIR points. `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${1:-target/clients}"
command -v node >/dev/null 2>&1 || { echo "install-clients: Node.js (20) is required for tests/it/clients.rs" >&2; exit 1; }
mkdir -p "$dest"
# npm ci again only when the pins moved (or the last install did not finish).
if ! cmp -s tests/clients/package-lock.json "$dest/package-lock.json" \
   || [ ! -f "$dest/node_modules/.installed" ]; then
  cp tests/clients/package.json tests/clients/package-lock.json "$dest/"
  (cd "$dest" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$dest/node_modules/.installed"
fi
[ -x "$dest/venv/bin/python" ] || python3 -m venv "$dest/venv"
"$dest/venv/bin/pip" install --quiet --disable-pip-version-check -r tests/clients/requirements.txt
echo "install-clients: the Salesforce CLI, jsforce and simple-salesforce are in $dest"
