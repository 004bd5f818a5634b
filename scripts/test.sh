#!/usr/bin/env bash
# The whole test suite: install what is missing, check formatting, build with
# -Wall -Wextra -Werror (the demo's -O3 release build too, not tested), run the unit,
# integration, gpu and fuzz suites, then run them
# again under AddressSanitizer + UndefinedBehaviorSanitizer, then each fuzz target under
# libFuzzer (clang) for a short while, a crash counting as a failure. Ends with one line:
#   N passed, N failed, N skipped
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
p2c2r_install_deps "${P2C2R_PACKAGES[@]}" clang-format || exit 1

failed_steps=0
step() { echo "== $*"; }

step "format check (clang-format)"
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
if ! clang-format --dry-run -Werror $files; then
  echo "format check failed: run clang-format -i on the files above"
  failed_steps=$((failed_steps + 1))
fi

run_suites() { # build-dir meson-setup-args...
  local dir=$1
  shift
  rm -f "$dir/meson-logs/testlog.json" # never count an earlier run
  step "build $dir ($*)"
  if ! { [ -d "$dir" ] && meson setup "$dir" --reconfigure "$@" >/dev/null ||
         meson setup "$dir" "$@" >/dev/null; } || ! ninja -C "$dir"; then
    echo "build of $dir failed"
    failed_steps=$((failed_steps + 1))
    return
  fi
  step "tests in $dir"
  meson test -C "$dir" --print-errorlogs --num-processes 2 ||
    true # failures are counted from the log below
}

run_suites build -Dwerror=true
# The demo's build (scripts/demo.sh): -O3 finds warnings -O2 does not; built, not tested.
step "build build-release (--buildtype=release -Dwerror=true)"
if ! { [ -d build-release ] && meson setup build-release --reconfigure --buildtype=release \
         -Dwerror=true >/dev/null ||
       meson setup build-release --buildtype=release -Dwerror=true >/dev/null; } ||
   ! ninja -C build-release; then
  echo "build of build-release failed"
  failed_steps=$((failed_steps + 1))
fi
# A UBSan report fails the process that made it, as an ASan report does.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
run_suites build-sanitize -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
  --buildtype=debug
# The fuzz targets alone, built by clang for libFuzzer; each runs fuzz_seconds (25).
CC=clang run_suites build-fuzz -Dwerror=true -Dfuzzing=true -Db_sanitize=address,undefined \
  -Db_lundef=false

python3 - "$failed_steps" build build-sanitize build-fuzz <<'PY'
import json, sys
failed_steps = int(sys.argv[1])
passed = failed = skipped = 0
for d in sys.argv[2:]:
    try:
        lines = open(f"{d}/meson-logs/testlog.json").read().splitlines()
    except OSError:
        failed += 1  # a build that never ran its tests
        continue
    for line in lines:
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
failed += failed_steps
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
