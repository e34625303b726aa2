#!/usr/bin/env bash
# Side-by-side timings of certmint against the openssl + keytool recipe it replaces, run
# on the same machine in the same session, alternating, reported as ratios (absolute
# times on a shared machine drift; paired ratios drift far less). See docs/performance.md.
#
# usage: scripts/bench.sh [SECTION...]
#   sections: machine recipe steps keygen kdf mint batch load version size build  (default: all
#             but build, which does a clean release build in a scratch target directory)
# environment:
#   CERTMINT=path   the binary to time (default: target/release/certmint, built if missing)
#   PAIRS=N         paired runs of the whole recipe (default 15, at least 10)
#   KEYGEN_RUNS=N   runs per size and tool for key generation (default 30)
#   BITS="2048 3072 4096"   key sizes for the keygen section
#   JOBS=N          cargo -j for the build section (default 2)
#
# Needs: hyperfine (Debian package `hyperfine`; installed with apt-get when run as root),
# openssl, keytool (a JDK), jq, awk.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
CERTMINT=${CERTMINT:-$here/target/release/certmint}
PAIRS=${PAIRS:-15}
KEYGEN_RUNS=${KEYGEN_RUNS:-30}
BITS=${BITS:-"2048 3072 4096"}
JOBS=${JOBS:-2}
PW=bench-pass-123
export PW

die() { echo "bench.sh: $*" >&2; exit 2; }
say() { printf '\n== %s\n' "$*"; }

need_tools() {
    if ! command -v hyperfine >/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "installing hyperfine (Debian package)" >&2
            (apt-get install -y hyperfine >/dev/null 2>&1 ||
                { apt-get update >/dev/null && apt-get install -y hyperfine >/dev/null; }) ||
                die "could not install hyperfine with apt-get"
        else
            die "hyperfine is missing: install it (Debian/Ubuntu: apt-get install hyperfine; or cargo install hyperfine)"
        fi
    fi
    for t in openssl keytool jq awk; do
        command -v "$t" >/dev/null || die "$t is missing (openssl, a JDK for keytool, jq and awk are needed)"
    done
    if [ ! -x "$CERTMINT" ]; then
        echo "building $CERTMINT (cargo build --release)" >&2
        cargo build --release --bin certmint >&2
    fi
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/certmint-bench.XXXXXX")
EMU_PID=
cleanup() {
    if [ -n "$EMU_PID" ]; then kill "$EMU_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------
# Statistics over a file of numbers (seconds), one per line.
stats() { # file -> "mean median min max n"
    sort -g "$1" | awk '{ v[NR] = $1; s += $1 } END {
        if (NR == 0) { print "nan nan nan nan 0"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.6f %.6f %.6f %.6f %d\n", s / NR, m, v[1], v[NR], NR }'
}
ms() { awk -v s="$1" 'BEGIN { printf "%.1f ms", s * 1000 }'; }

# One timed run of a command through hyperfine (no shell, no warm-up): seconds on stdout.
once() {
    local json=$WORK/once.json
    hyperfine -N --runs 1 --style none --export-json "$json" "$@" >/dev/null 2>&1 ||
        die "command failed: $*"
    jq -r '.results[0].times[0]' "$json"
}

# paired NAME RUNS PREPARE "COMMAND A" "COMMAND B"
# Runs A and B back to back RUNS times, alternating which goes first, with PREPARE (a
# shell snippet) before each run. Prints mean and median of each, the ratio of means
# (B/A) and the median of the per-pair ratios A/B ("how many times faster B is").
paired() {
    local name=$1 runs=$2 prep=$3 a=$4 b=$5 i ta tb
    : >"$WORK/$name.a"; : >"$WORK/$name.b"; : >"$WORK/$name.r"
    for ((i = 0; i < runs; i++)); do
        if ((i % 2 == 0)); then
            eval "$prep"; ta=$(once "$a")
            eval "$prep"; tb=$(once "$b")
        else
            eval "$prep"; tb=$(once "$b")
            eval "$prep"; ta=$(once "$a")
        fi
        echo "$ta" >>"$WORK/$name.a"; echo "$tb" >>"$WORK/$name.b"
        awk -v a="$ta" -v b="$tb" 'BEGIN { printf "%.6f\n", a / b }' >>"$WORK/$name.r"
    done
    read -r ma mda mina maxa n <<<"$(stats "$WORK/$name.a")"
    read -r mb mdb minb maxb _ <<<"$(stats "$WORK/$name.b")"
    read -r _ mr _ _ _ <<<"$(stats "$WORK/$name.r")"
    printf '  A: %s\n     mean %s  median %s  (min %s, max %s, n=%d)\n' "$a" "$(ms "$ma")" "$(ms "$mda")" "$(ms "$mina")" "$(ms "$maxa")" "$n"
    printf '  B: %s\n     mean %s  median %s  (min %s, max %s, n=%d)\n' "$b" "$(ms "$mb")" "$(ms "$mdb")" "$(ms "$minb")" "$(ms "$maxb")" "$n"
    awk -v ma="$ma" -v mb="$mb" -v mr="$mr" -v name="$name" 'BEGIN {
        printf "  RESULT %s: mean(B)/mean(A) = %.3f   median of paired A/B = %.2fx\n", name, mb / ma, mr }'
}

# ---------------------------------------------------------------------------------------
machine() {
    say "machine"
    echo "  cpu:      $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "  cores:    $(nproc)"
    echo "  os:       $(. /etc/os-release && echo "$PRETTY_NAME") ($(uname -r))"
    echo "  rustc:    $(rustc --version 2>/dev/null || echo '?')"
    echo "  openssl:  $(openssl version)"
    echo "  java:     $(java -version 2>&1 | head -n1)"
    echo "  hyperfine: $(hyperfine --version)"
    echo "  certmint: $("$CERTMINT" --version) ($CERTMINT)"
    echo "  load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min; other work on the machine skews absolutes)"
}

# ---------------------------------------------------------------------------------------
# The seed recipe, one shell script per tool. Each takes an empty output directory.
write_recipes() {
    local subj="/C=US/ST=California/L=San Francisco/O=Acme/CN=acme-jwt"
    cat >"$WORK/recipe-openssl.sh" <<EOF
set -e
cd "\$1"
openssl genrsa -des3 -passout env:PW -out server.pass.key 2048 2>/dev/null
openssl rsa -passin env:PW -in server.pass.key -out server.key 2>/dev/null
openssl req -new -key server.key -out server.csr -subj "$subj"
openssl x509 -req -sha256 -days 365 -in server.csr -signkey server.key -out server.crt 2>/dev/null
cp server.crt server.pem
openssl pkcs12 -export -in server.crt -inkey server.key -name server -out server.p12 -passout env:PW
keytool -importkeystore -noprompt -srckeystore server.p12 -srcstoretype PKCS12 -srcstorepass "\$PW" \\
    -destkeystore server.jks -deststoretype JKS -deststorepass "\$PW" -destkeypass "\$PW" >/dev/null 2>&1
EOF
    # certmint with its defaults: the key encrypted with PBKDF2-HMAC-SHA256 600,000
    # iterations (written, then read by decrypt), PKCS#12 with 100,000 iterations.
    cat >"$WORK/recipe-certmint.sh" <<EOF
set -e
cd "\$1"
C="$CERTMINT"
"\$C" -q key --out server.pass.key --passout env:PW
"\$C" -q decrypt server.pass.key --out server.key --passin env:PW
"\$C" -q csr --key server.key --out server.csr --subj "$subj"
"\$C" -q cert --csr server.csr --key server.key --days 365 --out server.crt
"\$C" -q convert server.crt --to pem --out server.pem
"\$C" -q p12 --cert server.crt --key server.key --out server.p12 --passout env:PW --name server
"\$C" -q jks --cert server.crt --key server.key --out server.jks --passout env:PW --alias server
EOF
    # Like for like: OpenSSL's 2,048-iteration key encryption costs about a millisecond
    # each way and certmint refuses fewer than 600,000 for keys, so this variant writes the
    # key unencrypted (decrypt then only re-encodes it); the PKCS#12 uses OpenSSL's 2,048
    # iterations (`--iter 2048`, like openssl -iter/-maciter).
    sed -e 's/ key --out server.pass.key --passout env:PW/ key --out server.pass.key --unencrypted/' \
        -e 's/ decrypt server.pass.key --out server.key --passin env:PW/ decrypt server.pass.key --out server.key/' \
        -e 's/ p12 --cert server.crt --key server.key --out server.p12 --passout env:PW --name server/ p12 --cert server.crt --key server.key --out server.p12 --passout env:PW --name server --iter 2048/' \
        "$WORK/recipe-certmint.sh" >"$WORK/recipe-certmint-like.sh"
    # certmint init DIR: the whole recipe in one process (when this certmint has it).
    cat >"$WORK/recipe-certmint-init.sh" <<EOF
set -e
"$CERTMINT" -q init "\$1/app" --subj "$subj" --passout env:PW
EOF
}

recipe() {
    say "recipe: openssl + keytool (A) vs certmint (B), 2048 bits, $PAIRS paired runs, alternating"
    ((PAIRS >= 10)) || die "PAIRS must be at least 10"
    write_recipes
    local out=$WORK/out prep
    prep="rm -rf '$out'; mkdir -p '$out'"
    eval "$prep"
    bash "$WORK/recipe-openssl.sh" "$out" || die "the openssl recipe failed"
    eval "$prep"
    bash "$WORK/recipe-certmint.sh" "$out" || die "the certmint recipe failed"
    echo "  KDF settings: openssl genrsa -des3 and pkcs12 -export use PBKDF2 2,048 iterations;"
    echo "  certmint defaults: key PBKDF2-HMAC-SHA256 600,000 iterations (written and read), PKCS#12 100,000."
    echo
    echo "  [defaults on both sides: certmint does ~300x the KDF work on the key]"
    paired recipe_default "$PAIRS" "$prep" "bash $WORK/recipe-openssl.sh $out" "bash $WORK/recipe-certmint.sh $out"
    echo
    echo "  [like for like: certmint key --unencrypted (OpenSSL's 2,048 iterations cost ~1 ms), p12 --iter 2048]"
    paired recipe_like "$PAIRS" "$prep" "bash $WORK/recipe-openssl.sh $out" "bash $WORK/recipe-certmint-like.sh $out"
    if "$CERTMINT" init --help >/dev/null 2>&1; then
        eval "$prep"
        if bash "$WORK/recipe-certmint-init.sh" "$out" >/dev/null 2>&1; then
            echo
            echo "  [certmint init: the whole recipe in one process, its default encryption]"
            paired recipe_init "$PAIRS" "$prep" "bash $WORK/recipe-openssl.sh $out" "bash $WORK/recipe-certmint-init.sh $out"
        else
            echo "  (certmint init exists but $WORK/recipe-certmint-init.sh failed: adjust its options in scripts/bench.sh)"
        fi
    else
        echo "  (this certmint has no init subcommand: the one-process variant is skipped)"
    fi
}

# Where the recipe's time goes: each step of each recipe on its own (10 runs each).
steps() {
    say "steps: each recipe step alone (median of 10 runs), 2048 bits"
    write_recipes
    local d=$WORK/steps subj="/O=Acme/CN=acme-jwt" cmds=()
    mkdir -p "$d"
    bash "$WORK/recipe-openssl.sh" "$d" >/dev/null
    local C="$CERTMINT -q"
    cmds+=("openssl genrsa -des3 -passout env:PW -out $d/o.pass.key 2048"
        "openssl rsa -passin env:PW -in $d/server.pass.key -out $d/o.key"
        "openssl req -new -key $d/server.key -out $d/o.csr -subj $subj"
        "openssl x509 -req -sha256 -days 365 -in $d/server.csr -signkey $d/server.key -out $d/o.crt"
        "openssl pkcs12 -export -in $d/server.crt -inkey $d/server.key -name server -out $d/o.p12 -passout env:PW"
        "keytool -importkeystore -noprompt -srckeystore $d/server.p12 -srcstoretype PKCS12 -srcstorepass $PW -destkeystore $d/o.jks -deststoretype JKS -deststorepass $PW -destkeypass $PW"
        "$C key --force --out $d/c.pass.key --passout env:PW"
        "$C key --force --unencrypted --out $d/c.plain.key"
        "$C decrypt $d/c.pass.key --force --out $d/c.key --passin env:PW"
        "$C csr --force --key $d/server.key --out $d/c.csr --subj $subj"
        "$C cert --force --csr $d/server.csr --key $d/server.key --days 365 --out $d/c.crt"
        "$C convert --force $d/server.crt --to pem --out $d/c.pem"
        "$C p12 --force --cert $d/server.crt --key $d/server.key --out $d/c.p12 --passout env:PW --name server"
        "$C jks --force --cert $d/server.crt --key $d/server.key --out $d/c.jks --passout env:PW --alias server")
    "$CERTMINT" -q key --out "$d/c.pass.key" --passout env:PW
    rm -f "$d/o.jks"
    hyperfine -N --runs 10 --warmup 1 --style basic --prepare "rm -f $d/o.jks" --export-json "$d/steps.json" "${cmds[@]}" >/dev/null 2>&1 ||
        die "a step failed"
    jq -r '.results[] | "  median \(.median * 1000 | . * 10 | round / 10) ms\tmean \(.mean * 1000 | . * 10 | round / 10) ms\t\(.command | sub("/tmp/[^ ]*/"; ""; "g") | sub("^/[^ ]*certmint"; "certmint"))"' "$d/steps.json"
}

# ---------------------------------------------------------------------------------------
keygen() {
    say "keygen: openssl genrsa (A) vs certmint key --unencrypted (B), both unencrypted, $KEYGEN_RUNS paired runs per size"
    local d=$WORK/kg
    mkdir -p "$d"
    for bits in $BITS; do
        echo "  -- $bits bits (target: mean(B) <= 0.6 x mean(A))"
        paired "keygen_$bits" "$KEYGEN_RUNS" ":" \
            "openssl genrsa -out $d/o.pem $bits" \
            "$CERTMINT -q key --unencrypted --force --bits $bits --out $d/c.pem"
    done
    openssl pkey -check -noout -in "$d/c.pem" >/dev/null || die "openssl pkey -check rejected certmint's key"
    echo "  (the last certmint key passed openssl pkey -check)"
}

# The cost of certmint's stronger key encryption, apart from key generation: decrypting
# one key with each KDF setting, in each tool.
kdf() {
    say "kdf: cost of key encryption settings (decrypting one 2048-bit key; 20 runs each)"
    local d=$WORK/kdf
    mkdir -p "$d"
    "$CERTMINT" -q key --unencrypted --out "$d/plain.pem"
    openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -passout env:PW -in "$d/plain.pem" -out "$d/openssl-2048.pem"
    openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -iter 600000 -passout env:PW -in "$d/plain.pem" -out "$d/openssl-600k.pem"
    "$CERTMINT" -q key --out "$d/certmint-600k.pem" --passout env:PW
    "$CERTMINT" -q key --kdf scrypt --out "$d/certmint-scrypt.pem" --passout env:PW
    hyperfine -N --runs 20 --warmup 2 --style basic --export-json "$d/kdf.json" \
        "openssl pkey -passin env:PW -in $d/openssl-2048.pem -out $d/o1.pem" \
        "$CERTMINT -q decrypt $d/openssl-2048.pem --passin env:PW --force --out $d/c1.pem" \
        "openssl pkey -passin env:PW -in $d/openssl-600k.pem -out $d/o2.pem" \
        "$CERTMINT -q decrypt $d/certmint-600k.pem --passin env:PW --force --out $d/c2.pem" \
        "$CERTMINT -q decrypt $d/certmint-scrypt.pem --passin env:PW --force --out $d/c3.pem" \
        "$CERTMINT -q decrypt $d/plain.pem --force --out $d/c4.pem" >/dev/null
    jq -r '.results[] | "  median \(.median * 1000 | . * 10 | round / 10) ms  mean \(.mean * 1000 | . * 10 | round / 10) ms  \(.command)"' "$d/kdf.json"
    echo "  (PBKDF2-HMAC-SHA256: 2,048 iterations is OpenSSL's default, 600,000 certmint's; scrypt N=2^14 r=8 p=1)"
}

# ---------------------------------------------------------------------------------------
start_emulator() { # nusers -> sets EMU_URL, EMU_PID
    local n=$1 d=$WORK/emu i args=()
    mkdir -p "$d"
    cp fixtures/keys/base.pkcs8.pem "$d/key.pem"
    cp fixtures/certs/base.crt "$d/cert.pem"
    for ((i = 0; i < n; i++)); do args+=(--user "user$i@example.com"); done
    "$CERTMINT" emulate --cert "$d/cert.pem" --client-id BENCH_KEY --listen 127.0.0.1:0 --no-log \
        "${args[@]}" >"$d/url" 2>"$d/log" &
    EMU_PID=$!
    for i in $(seq 50); do [ -s "$d/url" ] && break; sleep 0.1; done
    EMU_URL=$(head -n1 "$d/url")
    case "$EMU_URL" in http://*) ;; *) die "the emulator did not start: $(cat "$d/log")" ;; esac
}
stop_emulator() { kill "$EMU_PID" 2>/dev/null || true; wait "$EMU_PID" 2>/dev/null || true; EMU_PID=; }

mint() {
    say "mint: one certmint mint process against a local emulator (unencrypted key; target median < 15 ms)"
    start_emulator 1
    local d=$WORK/emu
    local m="$CERTMINT -q mint --key $d/key.pem --client-id BENCH_KEY --username user0@example.com --login-url $EMU_URL"
    hyperfine -N --runs 100 --warmup 5 --style basic --export-json "$d/mint.json" \
        "$m" "$m --no-verify" "$CERTMINT -q jwt --key $d/key.pem --client-id BENCH_KEY --username user0@example.com" >/dev/null
    jq -r '.results[] | "  median \(.median * 1000 | . * 100 | round / 100) ms  mean \(.mean * 1000 | . * 100 | round / 100) ms  p-max \(.max * 1000 | . * 10 | round / 10) ms  \(.command | sub(".*certmint "; "certmint "))"' "$d/mint.json"
    echo "  (the first line is token exchange + identity check; --no-verify skips the identity GET; jwt only signs)"
    stop_emulator
}

batch() {
    say "batch: certmint mint --usernames (10,000 tokens against a local emulator; target >= 1,000 tokens/s)"
    start_emulator 100
    local d=$WORK/emu i
    for ((i = 0; i < 10000; i++)); do echo "user$((i % 100))@example.com"; done >"$d/users.txt"
    for c in 1 2 4 8 16; do
        for v in "--no-verify" ""; do
            local t
            t=$(once "$CERTMINT -q mint --key $d/key.pem --client-id BENCH_KEY --login-url $EMU_URL --usernames $d/users.txt --concurrency $c $v")
            awk -v t="$t" -v c="$c" -v v="${v:-(identity checked)}" 'BEGIN {
                printf "  --concurrency %-2d %-22s 10000 tokens in %.2f s: %.0f tokens/s\n", c, v, t, 10000 / t }'
        done
    done
    stop_emulator
}

load() {
    say "load: emulator under 64 keep-alive connections, 100,000 verified exchanges (targets: >= 5,000/s, p99 < 20 ms, 0 errors, flat memory)"
    local gen=$here/target/release/examples/emulator_load
    if [ ! -x "$gen" ]; then
        cargo build --release --example emulator_load >&2
    fi
    "$gen" --certmint "$CERTMINT" --connections 64 --requests 100000 | sed 's/^/  /'
    "$gen" --certmint "$CERTMINT" --connections 8 --requests 50000 | sed 's/^/  /'
}

version() {
    say "version: certmint --version (target < 3 ms)"
    hyperfine -N --runs 300 --warmup 20 --style basic --export-json "$WORK/v.json" "$CERTMINT --version" "openssl version" >/dev/null
    jq -r '.results[] | "  median \(.median * 1000 | . * 100 | round / 100) ms  mean \(.mean * 1000 | . * 100 | round / 100) ms  \(.command)"' "$WORK/v.json"
}

size() {
    say "size: release binary (target < 8 MiB stripped)"
    cp "$CERTMINT" "$WORK/stripped"
    strip "$WORK/stripped" 2>/dev/null || true
    awk -v a="$(stat -c %s "$CERTMINT")" -v b="$(stat -c %s "$WORK/stripped")" 'BEGIN {
        printf "  as built %.2f MiB, stripped %.2f MiB\n", a / 1048576, b / 1048576 }'
}

build() {
    say "build: clean release build in a scratch target directory, -j$JOBS (target < 3 minutes)"
    local t=$WORK/target start end
    cargo fetch --locked >/dev/null 2>&1 || true
    echo "  load before: $(cut -d' ' -f1-3 /proc/loadavg)"
    start=$(date +%s.%N)
    CARGO_TARGET_DIR=$t cargo build --release --locked -j "$JOBS" --bin certmint >"$WORK/build.log" 2>&1 ||
        { tail -20 "$WORK/build.log"; die "the build failed"; }
    end=$(date +%s.%N)
    echo "  load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
    awk -v s="$start" -v e="$end" 'BEGIN { printf "  clean release build: %.1f s\n", e - s }'
    rm -rf "$t"
}

# ---------------------------------------------------------------------------------------
need_tools
sections=("$@")
if [ ${#sections[@]} -eq 0 ]; then
    sections=(machine recipe steps keygen kdf mint batch load version size)
fi
for s in "${sections[@]}"; do
    case "$s" in
    machine | recipe | steps | keygen | kdf | mint | batch | load | version | size | build) "$s" ;;
    *) die "unknown section $s (machine recipe steps keygen kdf mint batch load version size build)" ;;
    esac
done
