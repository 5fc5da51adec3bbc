#!/usr/bin/env bash
# state_tune_demo.sh — state tuning (`rwkv train --train_type state`) on the demo model: tunes
# the initial state on a few "User: ...\n\nAssistant: ..." dialogues whose assistant always
# answers like a pirate, prints the loss before and after, checks the model file is unchanged
# (sha256), and asks `rwkv chat` the same question with and without the tuned state (greedy).
# Needs the demo model (scripts/demo.sh writes out/demo/rwkv-final.pth); MODEL overrides it,
# STEPS the number of steps (default 60), OUT the run folder (default out/state_tune).
set -euo pipefail
cd "$(dirname "$0")/.."
RWKV=${RWKV_BUILD_DIR:-build}/rwkv
MODEL=${MODEL:-out/demo/rwkv-final.pth}
OUT=${OUT:-out/state_tune}
STEPS=${STEPS:-60}
[ -f "$MODEL" ] || { echo "state_tune_demo: $MODEL not found (run scripts/demo.sh first)" >&2; exit 1; }
rm -rf "$OUT"
mkdir -p "$OUT"

DATA="$OUT/dialogues.jsonl"
for q in "What is the capital of France?" "How are you today?" "What time is it?" "Can you help me?" \
         "Tell me about the sea." "What is your name?" "Where should I go?" "Is it going to rain?"; do
  printf '{"text": "User: %s\\n\\nAssistant: Arr, matey! Ye ask a fine question, arr."}\n' "$q"
done > "$DATA"

SUM_BEFORE=$(sha256sum "$MODEL" | cut -d' ' -f1)
# 8 dialogues of ~75 bytes per step: my_exit_tokens = STEPS * 8 * 75 runs about STEPS steps.
$RWKV train --train_type state --load_model "$MODEL" --data_file "$DATA" --tokenizer bytes \
  --proj_dir "$OUT" --vocab_size 256 --n_layer 4 --n_embd 256 --head_size 64 --ctx_len 128 \
  --micro_bsz 8 --lr_init 1.0 --lr_final 0.1 --warmup_steps 0 --my_exit_tokens $((STEPS * 8 * 75)) \
  --train_stage 3 --epoch_save 0 --plot 0 > "$OUT/train.txt"
tail -n 2 "$OUT/train.txt"
SUM_AFTER=$(sha256sum "$MODEL" | cut -d' ' -f1)

loss_of() { sed -n "$1"p "$OUT/metrics.jsonl" | sed 's/.*"loss": \([0-9.e+-]*\).*/\1/'; }
echo "== loss on the dialogues: before tuning (step 0) $(loss_of 1), after (last step) $(loss_of '$')"
echo "== model file sha256 before $SUM_BEFORE"
echo "==                   after  $SUM_AFTER ($([ "$SUM_BEFORE" = "$SUM_AFTER" ] && echo unchanged || echo CHANGED))"
Q="What is the weather like?"
echo "== rwkv chat, greedy, asked: $Q"
echo "-- without the state:"
printf '%s\n' "$Q" | $RWKV chat --model "$MODEL" --tokenizer bytes --temperature 0 --tokens 60
echo "-- with --state $OUT/rwkv-final.state:"
printf '%s\n' "$Q" | $RWKV chat --model "$MODEL" --tokenizer bytes --temperature 0 --tokens 60 --state "$OUT/rwkv-final.state"
[ "$SUM_BEFORE" = "$SUM_AFTER" ]
