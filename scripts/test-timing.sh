#!/usr/bin/env bash
# Test build and run time (docs/performance.md, "Test build and run time"): a clean
# `cargo test` (build + run, timed as its two halves), the same after touching one library
# file, and the size of target/debug. Each figure is printed with the load average
# (`uptime`) before and after it, because a shared machine changes the figures by a factor
# of two.
#
# usage: scripts/test-timing.sh [CHECKOUT] [-- CARGO_TEST_ARGS...]
#   CHECKOUT   the source tree to measure (default: this repository). For the "before"
#              figures: git worktree add /tmp/before REV && scripts/test-timing.sh /tmp/before
#   CARGO_TEST_ARGS  extra arguments for every `cargo test`, e.g. `-- --features slow-tests`
# environment:
#   TARGET_DIR=dir   a scratch target directory (default: a new one under /tmp; it is
#                    deleted first, so the build is clean, and kept afterwards)
#   TOUCH=file       the library file to touch, then to edit (default: src/x509.rs)
#   JOBS=N           cargo -j (default: 2)
#   CARGO_PROFILE_*  are passed through, to try profile settings without editing
#                    Cargo.toml (e.g. CARGO_PROFILE_DEV_DEBUG=line-tables-only)
#
# The dependency sources must already be downloaded (`cargo fetch --locked`), so the
# network is not timed.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
src=$here
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
    src=$(cd "$1" && pwd)
    shift
fi
[ "${1:-}" = "--" ] && shift
extra=("$@")
TOUCH=${TOUCH:-src/x509.rs}
JOBS=${JOBS:-2}
TARGET_DIR=${TARGET_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/certmint-test-timing.XXXXXX")}
export CARGO_TARGET_DIR=$TARGET_DIR

cd "$src"
[ -f "$TOUCH" ] || { echo "test-timing.sh: $src/$TOUCH does not exist" >&2; exit 2; }

load() { uptime | sed 's/.*load average: //'; }
# time_it LABEL CMD...: run CMD (its output to a log), print the wall time in seconds.
time_it() {
    local label=$1 start end rc=0 before
    shift
    step=$((step + 1))
    log="$TARGET_DIR/timing-$step.log"
    before=$(load)
    start=$(date +%s.%N)
    "$@" >"$log" 2>&1 || rc=$?
    end=$(date +%s.%N)
    printf '%-34s %8.1f s   exit %d   load before: %s   after: %s\n' \
        "$label" "$(echo "$end - $start" | bc)" "$rc" "$before" "$(load)"
}

echo "checkout:   $src ($(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo "target dir: $TARGET_DIR (logs: $TARGET_DIR/timing-N.log)"
echo "cargo:      $(cargo --version); -j$JOBS; args: ${extra[*]:-none}"
env | grep '^CARGO_PROFILE_' | sed 's/^/profile:    /' || true
echo "date:       $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores"

cargo fetch --locked >/dev/null 2>&1
rm -rf "$TARGET_DIR"/debug "$TARGET_DIR"/.rustc_info.json "$TARGET_DIR"/CACHEDIR.TAG
mkdir -p "$TARGET_DIR"
step=0
log=

time_it "clean: build (--no-run)" cargo test --locked -j"$JOBS" --no-run "${extra[@]}"
time_it "clean: run" cargo test --locked -j"$JOBS" "${extra[@]}"
echo "target/debug: $(du -sm "$TARGET_DIR/debug" | cut -f1) MiB; test binaries: $(find "$TARGET_DIR/debug/deps" -maxdepth 1 -type f -perm -u+x ! -name '*.so' ! -name 'build-script-*' | wc -l) executables in deps/"
touch "$TOUCH"
time_it "touch $TOUCH: build (--no-run)" cargo test --locked -j"$JOBS" --no-run "${extra[@]}"
time_it "touch $TOUCH: run" cargo test --locked -j"$JOBS" "${extra[@]}"
touch "$TOUCH"
time_it "touch $TOUCH: build + run" cargo test --locked -j"$JOBS" "${extra[@]}"
# A real edit: a new public function changes the library's interface, so everything
# that depends on it is compiled again, not only linked (a touch alone leaves rustc's
# incremental cache valid). The file is restored afterwards.
cp "$TOUCH" "$TARGET_DIR/touched.orig"
trap 'cp "$TARGET_DIR/touched.orig" "$src/$TOUCH"' EXIT
printf '\n/// test-timing.sh probe (removed after measuring).\n#[doc(hidden)]\npub fn test_timing_probe() -> u64 {\n    %s\n}\n' "$(date +%s)" >>"$TOUCH"
time_it "edit $TOUCH: build (--no-run)" cargo test --locked -j"$JOBS" --no-run "${extra[@]}"
time_it "edit $TOUCH: run" cargo test --locked -j"$JOBS" "${extra[@]}"
cp "$TARGET_DIR/touched.orig" "$TOUCH"
trap - EXIT
echo "target/debug after: $(du -sm "$TARGET_DIR/debug" | cut -f1) MiB"
grep -E '^test result:' "$log" | awk '{p+=$4; f+=$6} END {print "last run: " p " passed, " f " failed"}'
