#!/usr/bin/env bash
# ab_decode.sh — batch-1 decode and 512-token prefill of two builds side by side: runs OLD/bench_decode_cpu and
# NEW/bench_decode_cpu in turn (A B A B ...), ROUNDS times per dtype, and prints every run's
# decode tok/s (and % of the bandwidth bound measured in that run) and prefill tok/s, then the
# medians and the ratios of medians. The machine is shared: only alternating runs and medians mean anything.
#   bench/ab_decode.sh OLD_BUILD_DIR NEW_BUILD_DIR [ROUNDS=5]
set -euo pipefail
old=$1 new=$2 rounds=${3:-5}
for dt in fp32 bf16; do
  : > /tmp/ab_old_$dt; : > /tmp/ab_new_$dt
  for ((i = 0; i < rounds; i++)); do
    for side in old new; do
      dir=$old; [ $side = new ] && dir=$new
      line=$("$dir/bench_decode_cpu" --dtype $dt --decode 64 --prefill 512 | grep -oE "decode [0-9.]+ tok/s = [0-9]+%|prefill [0-9.]+ tok/s" | tr '\n' ' ')
      echo "$dt $side $line"
      echo "$line" | awk '{print $2, $5, $7}' | tr -d '%' >> /tmp/ab_${side}_$dt
    done
  done
  med() { sort -g -k$2 "$1" | awk -v c=$2 '{a[NR]=$c} END {print a[int((NR+1)/2)]}'; }
  o=$(med /tmp/ab_old_$dt 1) n=$(med /tmp/ab_new_$dt 1) op=$(med /tmp/ab_old_$dt 2) np=$(med /tmp/ab_new_$dt 2)
  opf=$(med /tmp/ab_old_$dt 3) npf=$(med /tmp/ab_new_$dt 3)
  echo "$dt median decode: old $o tok/s ($op% of bound), new $n tok/s ($np% of bound), new/old $(awk -v a=$n -v b=$o 'BEGIN{printf "%.3f", a/b}')"
  echo "$dt median prefill: old $opf tok/s, new $npf tok/s, new/old $(awk -v a=$npf -v b=$opf 'BEGIN{printf "%.3f", a/b}')"
done
