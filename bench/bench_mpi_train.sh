#!/usr/bin/env bash
# bench_mpi_train.sh — issue 17 acceptance 7: training tokens/s of 2 ranks x 1 thread (mpirun,
# deepspeed_stage_2) vs 1 process x 2 threads, same real batch, and the share of the 2-rank step
# time spent inside collectives (rank 0's count). Two shapes: the demo (L4-D256 ctx 128, real
# batch 8) and L12-D768 ctx 512 (real batch 4), vocab 256 on the demo's byte data. The runs
# alternate ROUNDS times (default 2) and the median tokens/s of steps after the first two is
# printed; the machine is shared, so only side-by-side numbers mean anything.
#   bench/bench_mpi_train.sh [ROUNDS]   (env: DEMO_STEPS=12, BIG_STEPS=4)
set -euo pipefail
cd "$(dirname "$0")/.."
RWKV=$(realpath "${RWKV_BUILD_DIR:-build}/rwkv")
F=$(realpath "${RWKV_FIXTURES:-../shared/fixtures}/traj-demo-L4-D256-bytes")
ROUNDS=${1:-2}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
MPIRUN=(mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"

# median tokens_per_s of metrics.jsonl after the first 2 steps
tps() { python3 -c "import json,sys,statistics as s; v=[json.loads(l)['tokens_per_s'] for l in open(sys.argv[1])][2:]; print(f'{s.median(v):.0f}')" "$1"; }

shape() {  # name layers embd ctx prime real_bsz steps
  local name=$1 L=$2 D=$3 ctx=$4 prime=$5 bsz=$6 steps=$7
  local C=(train --data_file "$F/data" --data_type binidx --vocab_size 256 --ctx_len $ctx --n_layer $L --n_embd $D
           --head_size 64 --magic_prime $prime --my_exit_tokens $((steps * bsz * ctx)) --warmup_steps 0
           --epoch_save 1 --plot 0 --random_seed 1)
  "$RWKV" "${C[@]}" --train_stage 1 --proj_dir "$OUT/$name-init" --micro_bsz $bsz > /dev/null
  for ((r = 0; r < ROUNDS; r++)); do
    rm -rf "$OUT/$name-1" "$OUT/$name-2"
    "$RWKV" "${C[@]}" --train_stage 3 --load_model "$OUT/$name-init/rwkv-init.pth" --micro_bsz $bsz --threads 2 \
      --proj_dir "$OUT/$name-1" > "$OUT/$name-1.log" 2>&1
    "${MPIRUN[@]}" "$RWKV" "${C[@]}" --train_stage 3 --load_model "$OUT/$name-init/rwkv-init.pth" --devices 2 \
      --micro_bsz $((bsz / 2)) --threads 1 --proj_dir "$OUT/$name-2" > "$OUT/$name-2.log" 2>&1
    echo "$name round $r: 1 rank x 2 threads $(tps "$OUT/$name-1/metrics.jsonl") tok/s | 2 ranks x 1 thread" \
         "$(tps "$OUT/$name-2/metrics.jsonl") tok/s | $(grep -o 'of steps.*' "$OUT/$name-2.log")"
  done
}
shape demo-L4-D256-ctx128 4 256 128 2309 8 "${DEMO_STEPS:-12}"
shape L12-D768-ctx512 12 768 512 569 4 "${BIG_STEPS:-4}"
