#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time, each corpus seeded from fixtures/.
#   scripts/fuzz.sh            # 30 seconds per target (what CI runs)
#   scripts/fuzz.sh 3600       # the documented longer run: one hour per target
#   scripts/fuzz.sh 60 key_read jks_read
# Needs cargo-fuzz (`cargo install cargo-fuzz`); on the stable toolchain it runs with
# RUSTC_BOOTSTRAP=1. A crash leaves its input in fuzz/artifacts/<target>/ and fails the
# script; turn each one into a named regression test in tests/regression.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-30}"
shift || true
export RUSTC_BOOTSTRAP=1

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi

seed() {
  local target="$1" dir="fuzz/corpus/$1"
  mkdir -p "$dir"
  local src=()
  case "$target" in
    key_read|inspect_detect|x509_read) src=(fixtures/keys fixtures/certs) ;;
    p12_read) src=(fixtures/p12) ;;
    jks_read) src=(fixtures/jks) ;;
    subject_parse) printf '/C=US/ST=California/O=Acme\\/Widgets/CN=acme-jwt/emailAddress=a@b.c' > "$dir/seed-subj" ;;
    *) src=(fuzz/seeds/"$target") ;;
  esac
  for s in "${src[@]}"; do
    [ -d "$s" ] || continue
    find "$s" -type f ! -name '*.md' ! -name '*.sh' -exec cp -n {} "$dir/" \;
  done
}

for t in "${targets[@]}"; do
  seed "$t"
done
cargo fuzz build -O
for t in "${targets[@]}"; do
  echo "fuzz: $t for ${secs}s"
  cargo fuzz run -O "$t" "fuzz/corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 2>&1 | tail -3
done
echo "fuzz: all targets ran ${secs}s without a crash"
