#!/usr/bin/env bash
# infctx_lambada.sh — infinite-context fine-tuning end to end: the demo model (bytes, L4-D256,
# trained with ctx 128) fine-tuned with `--train_type infctx` on the LAMBADA test texts joined
# into one document and cut into 32,768-token samples (--ctx_len_cutoff), segments of 512
# tokens, full BPTT; then the normal trainer on the same texts and model (ctx_len 512 samples)
# for the tokens/s side by side. Prints the loss of the first and last steps and both speeds.
# Needs out/demo/rwkv-final.pth (scripts/demo.sh); MODEL, STEPS (default 12), OUT override.
set -euo pipefail
cd "$(dirname "$0")/.."
RWKV=${RWKV_BUILD_DIR:-build}/rwkv
MODEL=${MODEL:-out/demo/rwkv-final.pth}
OUT=${OUT:-out/infctx_lambada}
STEPS=${STEPS:-12}
DOC=32768 CTX=512
[ -f "$MODEL" ] || { echo "infctx_lambada: $MODEL not found (run scripts/demo.sh first)" >&2; exit 1; }
rm -rf "$OUT"
mkdir -p "$OUT/infctx" "$OUT/normal"

# All LAMBADA texts as one document, separated by blank lines (the JSON strings joined as they are).
JOINED="$OUT/lambada_joined.jsonl"
{ printf '{"text": "'
  sed -e 's/^{"text": "//' -e 's/"}$//' assets/lambada_test.jsonl | awk 'NR > 1 { printf "\\n\\n" } { printf "%s", $0 }'
  printf '"}\n'; } > "$JOINED"

MODEL_FLAGS=(--load_model "$MODEL" --vocab_size 256 --n_layer 4 --n_embd 256 --head_size 64 --ctx_len $CTX
             --micro_bsz 1 --lr_init 3e-4 --lr_final 3e-5 --warmup_steps 0 --train_stage 3 --epoch_save 0 --plot 0)
echo "== infctx: $STEPS steps of one $DOC-token sample ($((DOC / CTX)) segments of $CTX, full BPTT)"
$RWKV train "${MODEL_FLAGS[@]}" --train_type infctx --data_file "$JOINED" --tokenizer bytes \
  --ctx_len_cutoff $DOC --proj_dir "$OUT/infctx" --my_exit_tokens $((STEPS * (DOC - 1))) \
  > "$OUT/infctx/train.txt" 2> "$OUT/infctx/progress.txt"
tail -c 300 "$OUT/infctx/progress.txt" | tr '\r' '\n' | tail -n 1

echo "== normal trainer: the same texts as binidx, ctx_len $CTX samples, 40 steps"
$RWKV make-data "$JOINED" 1 $CTX --tokenizer bytes --out "$OUT/normal/lambada" > "$OUT/normal/make_data.txt"
PRIME=$($RWKV magic-prime --data "$OUT/normal/lambada" --ctx_len $CTX | sed -n 's/.*--magic_prime \([0-9]*\).*/\1/p')
$RWKV train "${MODEL_FLAGS[@]}" --data_file "$OUT/normal/lambada" --data_type binidx --magic_prime "$PRIME" \
  --proj_dir "$OUT/normal" --my_exit_tokens $((40 * CTX)) > "$OUT/normal/train.txt" 2> "$OUT/normal/progress.txt"

# metrics.jsonl: mean loss of the first / last 3 steps, mean tokens/s after the first step.
summary() {
  sed 's/.*"loss": \([0-9.e+-]*\).*"tokens_per_s": \([0-9.e+-]*\).*/\1 \2/' "$1/metrics.jsonl" | awk -v what="$2" '
    { loss[NR] = $1; tps[NR] = $2 }
    END { n = NR; f = 0; l = 0; for (i = 1; i <= 3; i++) { f += loss[i]; l += loss[n - 3 + i] }
          s = 0; for (i = 2; i <= n; i++) s += tps[i];
          printf "%s: %d steps, loss %.4f (mean of steps 0-2) -> %.4f (mean of the last 3), %.0f tokens/s\n",
                 what, n, f / 3, l / 3, s / (n - 1) }'
}
summary "$OUT/infctx" "infctx (32,768-token documents, BPTT over 512-token segments)"
summary "$OUT/normal" "normal trainer (512-token samples)"
