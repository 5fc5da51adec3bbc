#!/usr/bin/env bash
# demo.sh — the main job on a built-in default, on the CPU:
#   1. prepare data: assets/demo.jsonl -> out/demo/demo.bin/.idx (byte tokens, make-data)
#   2. train a small RWKV-7 (L4-D256, ctx 128) from the official init for DEMO_STEPS steps
#   3. generate a sample from the trained model
# Override the length with DEMO_STEPS (default 300, about two minutes on 2 cores) and the run
# folder with DEMO_OUT (default out/demo). The run folder's curves.svg shows the training curves.
set -euo pipefail
cd "$(dirname "$0")/.."
RWKV=${RWKV_BUILD_DIR:-build}/rwkv
OUT=${DEMO_OUT:-out/demo}
STEPS=${DEMO_STEPS:-300}
CTX=128
BSZ=8
rm -rf "$OUT"
mkdir -p "$OUT"

echo "== 1. make-data (bytes tokenizer, ctx_len $CTX)"
$RWKV make-data assets/demo.jsonl 1 $CTX --tokenizer bytes --out "$OUT/demo" | tee "$OUT/make_data.txt"
PRIME=$($RWKV magic-prime --data "$OUT/demo" --ctx_len $CTX | sed -n 's/.*--magic_prime \([0-9]*\).*/\1/p')

COMMON=(--proj_dir "$OUT" --data_file "$OUT/demo" --data_type binidx --vocab_size 256
        --ctx_len $CTX --micro_bsz $BSZ --n_layer 4 --n_embd 256 --head_size 64 --magic_prime "$PRIME")
echo "== 2. train: official init (stage 1), then $STEPS steps (stage 3, magic_prime $PRIME)"
$RWKV train "${COMMON[@]}" --train_stage 1
$RWKV train "${COMMON[@]}" --train_stage 3 --load_model "$OUT/rwkv-init.pth" \
  --my_exit_tokens $((STEPS * BSZ * CTX)) --epoch_save 1 \
  --lr_init 6e-4 --lr_final 6e-5 --warmup_steps 10 --beta1 0.9 --beta2 0.99 --adam_eps 1e-18 \
  --weight_decay 0.001 --grad_clip 1.0 --accelerator cpu --devices 1 --precision fp32

echo "== training curves: $OUT/curves.svg ($RWKV plot $OUT -o $OUT/curves.html for the hover view)"
echo "== 3. generate from $OUT/rwkv-final.pth"
$RWKV generate --model "$OUT/rwkv-final.pth" --tokenizer bytes --tokens 200 --seed 0 \
  --temperature 1.0 --top_p 0.7 --prompt $'User: What is the capital of France?\n\nAssistant:'
echo
