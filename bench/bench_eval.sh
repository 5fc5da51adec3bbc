#!/usr/bin/env bash
# bench_eval.sh — `rwkv eval lambada` speed on the L12-D768 V65536 RWKV-7 shape (official init
# weights from `rwkv init`, bf16 as stored; the numbers do not depend on the values): documents/s,
# tokens/s and peak memory at several --batch sizes, THREADS threads, the first LIMIT documents.
#   bench/bench_eval.sh [BUILD_DIR=build] [LIMIT=500] [THREADS=2] [BATCHES="1 8 32 64"]
set -euo pipefail
build=${1:-build} limit=${2:-500} threads=${3:-2} batches=${4:-1 8 32 64}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/rwkv" init --n_layer 12 --n_embd 768 --vocab_size 65536 --out "$tmp/m.pth" >/dev/null 2>"$tmp/init"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $threads threads; $limit LAMBADA documents"
# The bound: every fed token goes through the block matrices (all parameters but emb and head;
# the head runs only for the few target rows), 2 FLOP per parameter, at the sgemm rate of this run.
params=$(grep -oE '[0-9]+ params /' "$tmp/init" | tail -1 | cut -d' ' -f1)
gflops=$(OMP_NUM_THREADS=$threads "$build/bench_decode_cpu" --threads "$threads" --dtype bf16 --decode 1 --prefill 16 2>/dev/null | grep -m1 -oE 'sgemm .* [0-9.]+ GFLOP/s' | grep -oE '[0-9.]+ GFLOP/s' | cut -d' ' -f1)
awk -v p="$params" -v g="$gflops" 'BEGIN { m = p - 2 * 65536 * 768; printf "sgemm %.1f GFLOP/s -> bound %.0f tokens/s (%.1fM block parameters)\n", g, g * 1e9 / (2 * m), m / 1e6 }'
for b in $batches; do
  /usr/bin/time -f "%M" -o "$tmp/rss" "$build/rwkv" eval lambada --model "$tmp/m.pth" --data "$here/assets/lambada_test.jsonl" \
    --limit "$limit" --batch "$b" --threads "$threads" --json "$tmp/b$b.jsonl" 2>/dev/null > "$tmp/out"
  speed=$(grep '^speed:' "$tmp/out" | sed 's/^speed: //')
  echo "batch $b: $speed, peak RSS $(( $(cat "$tmp/rss") / 1024 )) MiB"
  cmp -s "$tmp/b$b.jsonl" "$tmp/b$(echo $batches | cut -d' ' -f1).jsonl" || echo "  (json differs from the first batch size!)"
done
