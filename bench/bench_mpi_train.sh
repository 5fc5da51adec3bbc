#!/usr/bin/env bash
# bench_mpi_train.sh — issue 17 acceptance 7: training tokens/s of 2 ranks x 1 thread (mpirun,
# deepspeed_stage_2) vs 1 process x 2 threads, same real batch, and the share of the 2-rank step
# time spent waiting on communication (rank 0's: blocked in collectives and in the final wait for
# the bucket reduce-scatters), with the reduce-scatter overlapped with the backward
# (--ds_overlap_comm 1: "thread", the communicator's progress thread advancing it; "test": only
# MPI tests at each layer, RWKV_COMM_PROGRESS=test) and sent after the backward ("off",
# --ds_overlap_comm 0). Two shapes: the demo (L4-D256 ctx 128, real batch 8) and L12-D768 ctx 512
# (real batch 4), vocab 256 on the demo's byte data. The configurations alternate ROUNDS times
# (default 3); each run's value is the median over its steps after the first two, and the
# summary gives the median over rounds. The machine is shared, so only side-by-side numbers
# mean anything.
#   bench/bench_mpi_train.sh [ROUNDS]
#   env: DEMO_STEPS=12, BIG_STEPS=5, MODES="off thread test" (2-rank configurations),
#        BUCKET_MB=200 (--ds_bucket_mb), SHAPES="demo big"
set -euo pipefail
cd "$(dirname "$0")/.."
RWKV=$(realpath "${RWKV_BUILD_DIR:-build}/rwkv")
F=$(realpath "${RWKV_FIXTURES:-../shared/fixtures}/traj-demo-L4-D256-bytes")
ROUNDS=${1:-3}
MODES=${MODES:-off thread test}
BUCKET_MB=${BUCKET_MB:-200}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
MPIRUN=(mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo '?'); --ds_bucket_mb $BUCKET_MB; rounds $ROUNDS"

# median of a metrics.jsonl field over the steps after the first 2
med() { python3 -c "import json,sys,statistics as s; v=[json.loads(l).get(sys.argv[2],0) for l in open(sys.argv[1])][2:]; print(f'{s.median(v):.1f}')" "$1" "$2"; }

shape() {  # name layers embd ctx prime real_bsz steps
  local name=$1 L=$2 D=$3 ctx=$4 prime=$5 bsz=$6 steps=$7
  local C=(train --data_file "$F/data" --data_type binidx --vocab_size 256 --ctx_len $ctx --n_layer $L --n_embd $D
           --head_size 64 --magic_prime $prime --my_exit_tokens $((steps * bsz * ctx)) --warmup_steps 0
           --epoch_save 1 --plot 0 --random_seed 1)
  "$RWKV" "${C[@]}" --train_stage 1 --proj_dir "$OUT/$name-init" --micro_bsz $bsz > /dev/null
  local R=(--train_stage 3 --load_model "$OUT/$name-init/rwkv-init.pth")
  : > "$OUT/$name.tsv"
  for ((r = 0; r < ROUNDS; r++)); do
    rm -rf "$OUT/$name-1"
    "$RWKV" "${C[@]}" "${R[@]}" --micro_bsz $bsz --threads 2 --proj_dir "$OUT/$name-1" > "$OUT/$name-1.log" 2>&1
    local line="$name round $r: 1 rank x 2 threads $(med "$OUT/$name-1/metrics.jsonl" tokens_per_s) tok/s"
    printf '1x2\t%s\t0\n' "$(med "$OUT/$name-1/metrics.jsonl" tokens_per_s)" >> "$OUT/$name.tsv"
    for m in $MODES; do
      local ov=1 env=()
      [[ $m == off ]] && ov=0
      [[ $m == test ]] && env=(-x RWKV_COMM_PROGRESS=test)
      rm -rf "$OUT/$name-2$m"
      "${MPIRUN[@]}" "${env[@]}" "$RWKV" "${C[@]}" "${R[@]}" --devices 2 --micro_bsz $((bsz / 2)) --threads 1 \
        --ds_bucket_mb "$BUCKET_MB" --ds_overlap_comm $ov --proj_dir "$OUT/$name-2$m" > "$OUT/$name-2$m.log" 2>&1
      local t w
      t=$(med "$OUT/$name-2$m/metrics.jsonl" tokens_per_s)
      w=$(med "$OUT/$name-2$m/metrics.jsonl" comm_wait_pct)
      printf '2x1 %s\t%s\t%s\n' "$m" "$t" "$w" >> "$OUT/$name.tsv"
      line+=" | 2x1 overlap $m $t tok/s, wait $w%"
    done
    echo "$line"
  done
  python3 - "$OUT/$name.tsv" "$name" <<'EOF'
import sys, statistics as s
rows = {}
for l in open(sys.argv[1]):
    k, t, w = l.rstrip("\n").split("\t")
    rows.setdefault(k, []).append((float(t), float(w)))
parts = []
for k, v in rows.items():
    t = s.median(x[0] for x in v)
    parts.append(f"{k} {t:.0f} tok/s" + ("" if k == "1x2" else f", comm wait {s.median(x[1] for x in v):.1f}% of step"))
print(f"{sys.argv[2]} median of {len(next(iter(rows.values())))} rounds: " + " | ".join(parts))
EOF
}
for s in ${SHAPES:-demo big}; do
  case $s in
    demo) shape demo-L4-D256-ctx128 4 256 128 2309 8 "${DEMO_STEPS:-12}" ;;
    big) shape L12-D768-ctx512 12 768 512 569 4 "${BIG_STEPS:-5}" ;;
  esac
done
