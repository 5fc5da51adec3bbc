#!/usr/bin/env bash
# fuzz.sh — build the libFuzzer harnesses (tests/fuzz, clang + ASan + UBSan) into build-fuzz/,
# write their seed corpora (from ../shared/fixtures and assets/, plus every hostile file of
# tests/crafted_files.h as a regression input), replay them all, then fuzz each target for a
# bounded time. Any crash, sanitizer report, leak or timeout fails the run; its input is kept
# under build-fuzz/findings/<target>/ (give it a generator in tests/crafted_files.h with the fix).
#   scripts/fuzz.sh                      # CI: 30 s per target
#   scripts/fuzz.sh --seconds 600        # longer local run (10 minutes per target)
#   scripts/fuzz.sh --seconds 60 pth     # only some targets
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${FUZZ_SECONDS:-30}
TARGETS=()
while (($#)); do
  case "$1" in
    --seconds) SECONDS_PER_TARGET=$2; shift 2 ;;
    *) TARGETS+=("$1"); shift ;;
  esac
done
ALL=(pth safetensors binidx jsonl world_vocab tokenizer_json state_file config)
((${#TARGETS[@]})) || TARGETS=("${ALL[@]}")
command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (scripts/setup.sh installs it)" >&2; exit 1; }

B=${RWKV_FUZZ_BUILD_DIR:-build-fuzz}
FIXTURES=${RWKV_FIXTURES:-../shared/fixtures}
if [ ! -f "$B/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRWKV_FUZZ=ON \
    -DRWKV_TESTS=OFF -DRWKV_BENCH=OFF -DRWKV_CUDA=OFF >/dev/null
fi
cmake --build "$B" -j "$(nproc)" --target make_seeds $(printf 'fuzz_%s ' "${TARGETS[@]}")

rm -rf "$B/seeds" && "$B/make_seeds" "$FIXTURES" assets "$B/seeds"
export RWKV_FUZZ_TMP=$(mktemp -d)
trap 'rm -rf "$RWKV_FUZZ_TMP"' EXIT
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
status=0
printf '%-16s %10s %10s %8s %s\n' target execs exec/s corpus result
for t in "${TARGETS[@]}"; do
  bin="$B/fuzz_$t" seeds="$B/seeds/$t" work="$B/corpus/$t" found="$B/findings/$t"
  mkdir -p "$seeds" "$work" "$found"
  log="$B/fuzz_$t.log"
  # 1. replay: every seed and crafted regression input once
  if ! "$bin" -runs=0 -rss_limit_mb=2048 -timeout=10 "$seeds" >"$log" 2>&1; then
    echo "fuzz: $t: a seed or crafted input fails (see $log)" >&2; tail -30 "$log" >&2; status=1; continue
  fi
  # 2. fuzz, from the seeds plus what earlier runs found
  if "$bin" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -malloc_limit_mb=256 -timeout=10 -max_len=65536 \
      -artifact_prefix="$found/" -print_final_stats=1 "$work" "$seeds" >>"$log" 2>&1; then
    result=ok
  else
    result="FINDING (see $log, input in $found/)"; status=1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo 0)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo 0)
  printf '%-16s %10s %10s %8s %s\n' "$t" "$execs" "$rate" "$(ls "$work" | wc -l)" "$result"
done
exit $status
