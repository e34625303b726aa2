#!/usr/bin/env bash
# Runs cargo-fuzz targets for a bounded time each, every corpus seeded from fixtures/ and
# fuzz/seeds/<target>/, and fails (exit 1) on the first crash, leak, timeout or OOM.
#
#   scripts/fuzz.sh                    # 30 seconds per target (what .ci/run runs)
#   scripts/fuzz.sh 600                # the documented longer run: 10 minutes per target
#   scripts/fuzz.sh 60 key_read jks_read
#
# Needs cargo-fuzz (`cargo install --locked cargo-fuzz`); on the stable toolchain it runs
# with RUSTC_BOOTSTRAP=1. A crash leaves its input in fuzz/artifacts/<target>/ and the
# libFuzzer log in fuzz/logs/<target>.log; turn each crash into a named regression test
# in tests/it/regression.rs. A summary line per target (executions, coverage, features,
# corpus size) is printed at the end and written to fuzz/logs/summary.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-30}"
shift || true
case "$secs" in '' | *[!0-9]*)
  echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
  exit 2
  ;;
esac
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null 2>&1 || {
  echo "fuzz: cargo-fuzz is missing: cargo install --locked cargo-fuzz" >&2
  exit 2
}

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
[ ${#targets[@]} -gt 0 ] || { echo "fuzz: no targets" >&2; exit 2; }

seed() {
  local target="$1" dir="fuzz/corpus/$1"
  mkdir -p "$dir"
  local src=()
  case "$target" in
    key_read) src=(fixtures/keys fixtures/jks/acme.key fixtures/jks/acme.pass.key fixtures/jks/small.key) ;;
    x509_read) src=(fixtures/certs fixtures/jks/acme.crt fixtures/jks/other.crt) ;;
    inspect_detect) src=(fixtures/keys fixtures/certs fixtures/p12 fixtures/jks fuzz/seeds/jwt_parse) ;;
    p12_read) src=(fixtures/p12 fixtures/jks/keytool-source.p12) ;;
    jks_read) src=(fixtures/jks) ;;
    soql_parse)
      printf "SELECT name FROM Profile WHERE Id IN (SELECT ProfileId FROM User WHERE username='a@b.c')" > "$dir/seed-subquery"
      printf "SELECT Id, Profile.Name FROM User WHERE IsActive = true AND Username IN ('a', 'b') LIMIT 5" > "$dir/seed-where"
      ;;
    subject_parse)
      printf '/C=US/ST=California/O=Acme\\/Widgets/CN=acme-jwt/emailAddress=a@b.c' > "$dir/seed-subj"
      printf '/CN=caf\xc3\xa9 \\+ co/OU=a+OU=b/L=San Francisco' > "$dir/seed-multi"
      ;;
    *) ;;
  esac
  [ -d "fuzz/seeds/$target" ] && src+=("fuzz/seeds/$target")
  local s
  for s in "${src[@]}"; do
    if [ -d "$s" ]; then
      find "$s" -type f ! -name '*.md' ! -name '*.sh' ! -name '*.java' -exec cp -n {} "$dir/" \;
    elif [ -f "$s" ]; then
      cp -n "$s" "$dir/"
    fi
  done
}

mkdir -p fuzz/logs
summary=fuzz/logs/summary.txt
: > "$summary"
for t in "${targets[@]}"; do
  seed "$t"
done
cargo fuzz build -O

failed=()
for t in "${targets[@]}"; do
  log="fuzz/logs/$t.log"
  echo "fuzz: $t for ${secs}s"
  status=0
  # -timeout: one input running longer than this is a hang (a bug); -rss_limit_mb also
  # bounds single allocations (malloc_limit_mb defaults to it): a hostile length that
  # drives a huge allocation is a crash.
  cargo fuzz run -O "$t" "fuzz/corpus/$t" -- \
    -max_total_time="$secs" -timeout=30 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 >"$log" 2>&1 || status=$?
  runs=$(grep -Eo 'Done [0-9]+ runs' "$log" | tail -1 | grep -Eo '[0-9]+' || true)
  [ -n "$runs" ] || runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1 || true)
  last=$(grep -E '#[0-9]+.*(cov|ft):' "$log" | tail -1 || true)
  cov=$(grep -Eo 'cov: [0-9]+' <<<"$last" | grep -Eo '[0-9]+' || true)
  ft=$(grep -Eo 'ft: [0-9]+' <<<"$last" | grep -Eo '[0-9]+' || true)
  corp=$(grep -Eo 'corp: [0-9]+' <<<"$last" | grep -Eo '[0-9]+' || true)
  line="$t: ${runs:-?} execs in ${secs}s, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}"
  if [ "$status" -ne 0 ]; then
    line="$line: FAILED (exit $status)"
    failed+=("$t")
    echo "fuzz: $t FAILED; log $log" >&2
    grep -E 'ERROR: libFuzzer|panicked at|SUMMARY:|Test unit written to|Running: ' "$log" | head -20 >&2 || true
  fi
  echo "$line" | tee -a "$summary"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${secs}s without a crash"
