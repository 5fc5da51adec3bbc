// trainer.cpp — see trainer.h. Mirrors train.py + trainer.py's train_callback step by step.
#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>

#include <sys/resource.h>

#include <fmt/format.h>

#include "core/error.h"
#include "core/progress.h"
#include "core/threads.h"
#include "data/binidx.h"
#include "data/make_data.h"
#include "io/model_file.h"
#include "plot/svg_plot.h"
#include "train/adamw.h"
#include "train/data_parallel.h"
#include "train/lr_schedule.h"
#include "train/run_dir.h"
#include "train/doc_samples.h"
#include "train/sampler.h"
#include "train/train_log.h"

namespace rwkv::train {

namespace {

DType save_dtype(const TrainArgs& a) {
  if (a.precision == "bf16") return DType::BF16;
  if (a.precision == "fp16") return DType::F16;
  return DType::F32;
}

// Largest token in the data (checked against --vocab_size before any step).
uint16_t max_token(const BinidxReader& data) {
  const uint16_t* t = data.tokens();
  int64_t n = int64_t(data.num_tokens());
  uint16_t m = 0;
#pragma omp parallel for reduction(max : m) schedule(static)
  for (int64_t i = 0; i < n; i++) m = std::max(m, t[i]);
  return m;
}

// Peak resident memory of this process so far (MiB).
double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_maxrss) / 1024.0;  // KiB on Linux
}

// Rank 0 tells the others how the run starts (resume point, schedule) — they do not read the
// run folder, which another machine may not have. Returns true when stage 1 ended the run.
bool share_start(Comm& comm, TrainArgs& args, bool stage1_done) {
  int64_t v[4] = {args.epoch_begin, args.warmup_steps, args.my_pile_prev_p, stage1_done ? 1 : 0};
  if (comm.size() > 1) comm.broadcast(v, sizeof v, 0);
  args.epoch_begin = v[0], args.warmup_steps = v[1], args.my_pile_prev_p = v[2];
  return v[3] != 0;
}

// Zeros of the expected shapes: a model for ranks > 0 to receive rank 0's weights into.
StateDict zeros_like(const NamedShapes& shapes) {
  StateDict sd;
  for (auto& [name, shape] : shapes) sd.set(name, Tensor::zeros(DType::F32, shape));
  return sd;
}

}  // namespace

TrainResult run_training(const TrainArgs& a, const ModelBackend& backend, const TrainHooks& hooks) {
  TrainResult res;
  std::unique_ptr<Comm> own_comm;
  Comm& comm = hooks.comm ? *hooks.comm : *(own_comm = make_single_comm());
  const bool lead = comm.rank() == 0;   // rank 0 alone prints and writes files
  const bool quiet = hooks.quiet || !lead;
  auto say = [&](const std::string& s) {
    if (!quiet) fmt::print("{}", s), std::fflush(stdout);
  };
  if (a.real_bsz <= 0) fail("train", "internal: TrainArgs::finalize() was not called");
  if (a.threads > 0) set_num_threads(int(a.threads));
  TrainArgs args = a;

  // ---- data (MyDataset): size, vocab, magic prime ----
  if (args.data_file.empty()) fail("train", "--data_file is not set (the binidx prefix, without .bin/.idx)");
  const bool infctx = args.train_type == "infctx";
  const bool state_mode = args.train_type == "state";  // frozen model, trainable initial state
  if (state_mode && !backend.build_state)
    fail("train", "--train_type state is not supported for {} models (RWKV-7 x070 only)", backend.name);
  if (state_mode && (!hooks.save_state || !hooks.load_state))
    fail("train", "internal: --train_type state needs the state-file hooks");
  std::string data_prefix = args.data_file;
  if (args.data_type == "jsonl") {  // documents straight from a .jsonl: make-data into the run folder
    ensure_writable_dir(args.proj_dir);
    MakeDataOptions mo;
    mo.input = args.data_file;
    mo.ctx_len = args.ctx_len;
    mo.tokenizer = args.tokenizer;
    mo.out_prefix = args.proj_dir + "/data";
    mo.shuffle = false;  // documents in file order, as a binidx made without shuffling
    mo.threads = int(args.threads);
    mo.progress = !hooks.quiet;
    say(fmt::format("Tokenizing {} ({} tokenizer) into {}.bin/.idx\n", args.data_file, args.tokenizer, mo.out_prefix));
    data_prefix = make_data(mo, nullptr).prefix;
  }
  BinidxReader data(data_prefix);
  uint64_t n_tok = data.num_tokens();
  say(fmt::format("Current vocab size = {} (make sure it's correct)\nData has {} tokens.\n", args.vocab_size, n_tok));
  // --train_type infctx / state: whole documents as samples (no magic prime), BPTT over ctx_len
  // segments.
  const bool doc_mode = infctx || state_mode;
  const int world = comm.size();
  if (world > 1 && world != args.num_nodes * args.devices)
    fail("train", "--num_nodes {} x --devices {} = {} ranks, but {} processes were started (mpirun -np {}): they must agree",
         args.num_nodes, args.devices, args.num_nodes * args.devices, world, args.num_nodes * args.devices);
  if (world > 1 && doc_mode)
    fail("train", "--train_type {} runs in one process only (ranks are simulated there); start it without mpirun",
         args.train_type);
  const DpStrategy strategy = parse_strategy(args.strategy);
  if (args.ds_bucket_mb <= 0) fail("train", "--ds_bucket_mb must be > 0, got {}", args.ds_bucket_mb);
  std::vector<DocSample> doc_samples;
  if (doc_mode) {
    doc_samples = document_samples(data, uint64_t(args.ctx_len_cutoff), args.data_file);
    say(fmt::format("{}: {} samples (documents{}), segments of {} tokens, {} BPTT\n", args.train_type,
                    doc_samples.size(),
                    args.ctx_len_cutoff > 0 ? fmt::format(" cut at {} tokens", args.ctx_len_cutoff) : "", args.ctx_len,
                    args.bptt_truncated_learning ? "truncated" : "full"));
  } else {
    validate_magic_prime(uint64_t(args.magic_prime), n_tok, uint64_t(args.ctx_len), args.data_file.c_str());
  }
  if (args.vocab_size <= 0) fail("train", "--vocab_size must be set for binidx data (e.g. 65536 for the World tokenizer)");
  uint16_t mt = max_token(data);
  if (int64_t(mt) >= args.vocab_size)
    fail("train", "{}: holds token {} but --vocab_size is {} (tokens must be < vocab_size)", args.data_file, mt,
         args.vocab_size);

  // ---- run folder and the checkpoint to start from (train.py) ----
  ensure_writable_dir(args.proj_dir);
  NamedShapes expected = backend.shapes(args);
  StateDict sd;
  std::unique_ptr<TrainModel> model;
  if (state_mode) {
    // The weights come from --load_model and stay as they are; the state starts from the newest
    // rwkv-N.state of the run folder (stage >= 2), else --load_state, else zeros.
    std::string start_path = args.load_state;
    if (args.train_stage >= 2) {
      ResumeChoice sc = choose_resume(args.proj_dir, ".state");
      if (sc.found && sc.newest >= 0) {
        start_path = checkpoint_path(args.proj_dir, sc.newest, ".state");
        args.epoch_begin = sc.newest + 1;
        if (args.warmup_steps < 0) args.warmup_steps = 10;
      }
    }
    say(args.banner());
    say(args.vars_repr() + "\n\n");
    say(fmt::format("########## Loading {} (frozen) ##########\n", args.load_model));
    std::string why;
    if (!try_load_checkpoint(args.load_model, sd, why)) fail("train", "cannot load {}", why);
    check_state_dict(sd, expected, args.load_model, false, [&] { return backend.init(args); });
    StateDict start;
    if (!start_path.empty()) {
      say(fmt::format("Initial state from {}\n", start_path));
      start = hooks.load_state(start_path);
    }
    model = backend.build_state(sd, args, start_path.empty() ? nullptr : &start, start_path);
    res.loaded = start_path;
    res.epoch_begin = args.epoch_begin;
  }
  ResumeChoice rc;
  if (!state_mode && args.train_stage >= 2 && lead) {
    rc = choose_resume(args.proj_dir);
    if (rc.found) {
      args.my_pile_prev_p = rc.prev;
      args.load_model = checkpoint_path(args.proj_dir, rc.newest);
      if (rc.newest >= 0 && args.warmup_steps < 0) args.warmup_steps = 10;
      args.epoch_begin = rc.newest + 1;
    } else if (args.load_model.empty() || !std::filesystem::exists(args.load_model)) {
      fail("train", "--train_stage {}: --proj_dir {} holds no rwkv-*.pth to resume from, and --load_model '{}' {}",
           args.train_stage, args.proj_dir, args.load_model, args.load_model.empty() ? "is not set" : "does not exist");
    }
  }
  if (!state_mode && !lead) {  // weights and start point come from rank 0
    if (share_start(comm, args, false)) {
      res.stage1_done = true;
      return res;
    }
    model = backend.build(zeros_like(expected), args);
    res.epoch_begin = args.epoch_begin;
  }
  if (!state_mode && lead) {
  say(args.banner());
  say(args.vars_repr() + "\n\n");

  if (args.load_model.empty() || args.train_stage == 1) {
    std::string init_path = args.proj_dir + "/rwkv-init.pth";
    StateDict init = backend.init(args);
    if (args.train_stage == 1 && !args.load_model.empty()) {
      // generate_init_weight: take every tensor of --load_model that has a same-size slot.
      StateDict src = load_model_file(args.load_model);
      for (auto& [k, t] : src.items) {
        const Tensor* dst = init.find(k);
        if (!dst) fail("train", "{}: tensor '{}' has no place in the model the flags describe", args.load_model, k);
        if (dst->numel() != t.numel())
          fail("train", "{}: '{}' has shape {} but the model needs {} (resizing is not supported)", args.load_model, k,
               shape_str(t.shape), shape_str(dst->shape));
        init.set(k, t.to(dst->dtype).reshaped(dst->shape));
      }
    }
    StateDict out;
    for (auto& [k, t] : init.items) out.set(k, t.to(save_dtype(args)));
    say(fmt::format("Save to {}...\n", init_path));
    save_checkpoint(init_path, out);
    if (args.train_stage == 1) {
      say("Done. Now go for stage 2.\n");
      res.stage1_done = true;
      share_start(comm, args, true);
      return res;
    }
    args.load_model = init_path;
  }

  say(fmt::format("########## Loading {}... ##########\n", args.load_model));
  std::string why;
  if (!try_load_checkpoint(args.load_model, sd, why)) {
    say(fmt::format("Bad checkpoint {}\n", args.load_model));
    if (args.train_stage < 2 || args.my_pile_prev_p == -2) fail("train", "cannot load {}", why);
    int64_t p = args.my_pile_prev_p;
    args.load_model = checkpoint_path(args.proj_dir, p);
    args.epoch_begin = p + 1;
    say(fmt::format("Trying {}\n", args.load_model));
    std::string why2;
    if (!try_load_checkpoint(args.load_model, sd, why2))
      fail("train", "the newest checkpoint is corrupt ({}) and so is the one before it ({})", why, why2);
  }
  check_state_dict(sd, expected, args.load_model, args.load_partial == 1, [&] { return backend.init(args); });
  model = backend.build(sd, args);
  res.loaded = args.load_model;
  res.epoch_begin = args.epoch_begin;
  share_start(comm, args, false);
  }  // !state_mode
  sd = StateDict{};  // the model holds its own fp32 copy
  if (!quiet)
    for (auto& s : model->slots()) {
      std::string d[4];
      for (size_t i = 0; i < 4 && i < s.shape.size(); i++) d[i] = std::to_string(s.shape[i]);
      fmt::print("{:<5} {:<5} {:<5} {:<5} {}\n", d[0], d[1], d[2], d[3], s.name);
    }

  // ---- optimizer and schedule ----
  AdamWConfig oc;
  oc.beta1 = args.beta1, oc.beta2 = args.beta2, oc.eps = args.adam_eps, oc.weight_decay = args.weight_decay;
  oc.layerwise_lr = args.layerwise_lr == 1;
  DataParallel dp(comm, strategy, model->slots(), model->numel(), oc, size_t(args.ds_bucket_mb) << 20,
                  args.ds_overlap_comm != 0);
  dp.broadcast_params(model->params());  // every rank starts from rank 0's weights
  // ZeRO-2 overlap: the backward reports each finished layer and its buckets start at once.
  if (dp.overlaps()) model->set_grads_ready([&dp](size_t from) { dp.grads_ready(from); });
  {
    std::vector<double> ob = dp.optimizer_state_bytes_all();
    std::string per;
    for (double b : ob) per += fmt::format("{}{:.0f}", per.empty() ? "" : ", ", b);
    say(fmt::format("optimizer state (AdamW m, v fp32) bytes per rank: [{}] ({} rank{}, {}, {} parameters)\n", per,
                    world, world == 1 ? "" : "s", strategy_name(strategy), model->numel()));
    if (world > 1 && strategy == DpStrategy::Zero2)
      say(fmt::format("gradient reduce-scatter in buckets of {} MiB, {}\n", args.ds_bucket_mb,
                      dp.overlaps() ? "overlapped with the backward (--ds_overlap_comm 1)"
                                    : "after the backward (--ds_overlap_comm 0)"));
  }
  LrSchedule sched;
  sched.lr_init = args.lr_init, sched.lr_final = args.lr_final, sched.warmup_steps = args.warmup_steps;
  sched.my_exit_tokens = args.my_exit_tokens;
  sched.tokens_per_step = args.ctx_len * args.real_bsz;
  if (doc_mode) {  // the schedule counts steps of the mean sample's targets
    uint64_t targets = 0;
    for (const DocSample& d : doc_samples) targets += d.length - 1;
    sched.tokens_per_step = std::max<int64_t>(1, int64_t(targets / doc_samples.size()) * args.real_bsz);
  }
  const int64_t tokens_per_step = sched.tokens_per_step;

  std::unique_ptr<RunLogs> logs;
  if (lead) logs = std::make_unique<RunLogs>(args.proj_dir);
  // <proj_dir>/curves.svg (src/plot): rewritten at every epoch_save and when the run ends, however
  // it ends. A picture that cannot be drawn is a warning, never the end of a training run.
  auto refresh_curves = [&args, lead]() noexcept {
    if (args.plot == 0 || !lead) return;
    try {
      plot::write_run_curves(args.proj_dir);
    } catch (const std::exception& e) {
      fmt::print(stderr, "warning: {}/curves.svg not updated: {}\n", args.proj_dir, e.what());
    } catch (...) {
    }
  };
  struct AtExit {
    std::function<void()> f;
    ~AtExit() { f(); }
  } curves_at_exit{refresh_curves};
  say(fmt::format("### Preparing for training (loaded {}). Please wait...\n", args.load_model));

  // Checkpoints: rwkv-N.pth / rwkv-final.pth of the weights, or rwkv-N.state / rwkv-final.state
  // (state files) of the tuned state. n < 0: final.
  auto save = [&](int64_t n) {
    if (!lead) return std::string();
    const std::string ext = state_mode ? ".state" : ".pth";
    const std::string path = n < 0 ? args.proj_dir + "/rwkv-final" + ext : checkpoint_path(args.proj_dir, n, ext);
    if (state_mode)
      hooks.save_state(path, model->to_state_dict(DType::F32));
    else
      save_checkpoint(path, model->to_state_dict(save_dtype(args)));
    return path;
  };
  auto memory_line = [&] { return fmt::format("peak memory (RSS) {:.1f} MiB", peak_rss_mib()); };

  const int64_t first_real = args.epoch_begin * args.epoch_steps;
  const int64_t exit_step = (args.my_exit_tokens + tokens_per_step - 1) / tokens_per_step;
  int64_t run_steps = std::max<int64_t>(0, exit_step - first_real);
  if (hooks.max_steps >= 0) run_steps = std::min(run_steps, hooks.max_steps);
  std::unique_ptr<Progress> prog;
  if (!quiet) prog = std::make_unique<Progress>("train", double(run_steps * tokens_per_step), "tok");

  StepBatch batch;
  DocBatch doc_batch;
  int64_t global_step = 0;
  double loss_sum = 0, last_lr = 0;
  int64_t loss_count = 0;
  comm.take_comm_seconds();  // the start's broadcasts are no step's communication
  auto t_last = std::chrono::steady_clock::now();
  for (int64_t cur_epoch = 0;; cur_epoch++) {
    const int64_t real_epoch = args.epoch_begin + cur_epoch;
    for (int64_t s = 0; s < args.epoch_steps; s++) {
      const int64_t real_step = global_step + first_real;
      LrPoint lp = sched.at(global_step, real_step);
      if (lp.exit) {
        std::string fin = save(-1);
        if (prog) prog->finish(fmt::format("reached my_exit_tokens {}: saved {}; {}", args.my_exit_tokens, fin, memory_line()));
        res.reached_exit = true;
        return res;
      }
      if (hooks.max_steps >= 0 && global_step >= hooks.max_steps) {
        if (prog) prog->finish(memory_line());
        return res;
      }
      if (global_step == 0 && logs) {
        logs->new_run(args);
        loss_sum = 0, loss_count = 0;
      }
      float loss = 0;
      int64_t step_tokens = tokens_per_step;
      uint64_t first_offset = 0;
      int segments = 0;
      if (doc_mode) {  // real_bsz whole documents (ranks simulated in one batch), in file order
        const uint64_t first = uint64_t(real_step) * uint64_t(args.real_bsz) % doc_samples.size();
        make_doc_batch(data, doc_samples, first, int(args.real_bsz), doc_batch);
        loss = model->forward_backward_docs(doc_batch.tokens.data(), doc_batch.B, doc_batch.T,
                                            doc_batch.lengths.data(), int(args.ctx_len),
                                            args.bptt_truncated_learning == 1, args.grad_cp == 1);
        step_tokens = 0;
        for (int32_t n : doc_batch.lengths) step_tokens += n;
        segments = int((doc_batch.T + args.ctx_len - 1) / args.ctx_len);
        first_offset = doc_samples[first].offset;
      } else {
        if (world > 1)  // this rank's micro_bsz rows (RWKV-LM's sampler for rank, world)
          make_rank_batch(data, uint64_t(args.magic_prime), uint64_t(args.ctx_len), uint64_t(real_epoch), uint64_t(s),
                          uint64_t(args.micro_bsz), uint64_t(world), uint64_t(comm.rank()), batch);
        else  // every rank's rows in one batch
          make_batch(data, uint64_t(args.magic_prime), uint64_t(args.ctx_len), uint64_t(real_epoch), uint64_t(s),
                     uint64_t(args.micro_bsz), uint64_t(args.num_nodes * args.devices), batch);
        dp.begin_backward(model->grads());
        loss = model->forward_backward(batch.tokens.data(), batch.B, batch.T, args.grad_cp == 1);
        if (world > 1) loss = float(dp.mean(loss));
        first_offset = batch.offsets[0];
      }
      if (!std::isfinite(loss))
        fail("train", "step {}: the loss is {} (diverged); lower --lr_init or check the data", real_step, loss);
      if (args.weight_decay_final > 0)  // RWKV-v5 trainer.py: exponential from weight_decay over the progress
        dp.set_weight_decay(args.weight_decay * std::exp(std::log(args.weight_decay_final / args.weight_decay) * lp.progress));
      // grad averaging over ranks, global-norm clip, AdamW (sharded by --strategy), weights on every rank
      double gn = dp.step(model->params(), model->grads(), lp.lr, args.grad_clip);
      last_lr = lp.lr;

      auto now = std::chrono::steady_clock::now();
      double dt = std::chrono::duration<double>(now - t_last).count();
      t_last = now;
      double tps = dt > 0 ? double(step_tokens) / dt : 0;
      const double comm_s = comm.take_comm_seconds();  // this step's time waiting on communication
      res.comm_seconds += comm_s, res.step_seconds += dt;
      const double comm_pct = dt > 0 ? 100 * comm_s / dt : 0.0;
      loss_sum += loss, loss_count++;
      if (logs)
        logs->step_metrics(real_step, loss, lp.lr, gn, (real_step + 1) * tokens_per_step, tps, world > 1 ? comm_pct : -1);
      if (hooks.on_step) hooks.on_step({global_step, real_step, real_epoch, loss, lp.lr, gn, first_offset});
      if (prog)
        prog->update(double((global_step + 1) * tokens_per_step),
                     fmt::format("step {} loss {:.4f} (avg {:.4f}) lr {:.3e} |g| {:.3g}{}", real_step, loss,
                                 loss_sum / loss_count, lp.lr, gn,
                                 world > 1 ? fmt::format(" | comm wait {:.0f}%", comm_pct)
                                 : doc_mode ? fmt::format(" | {} docs, {} tokens, {} segment{}", doc_batch.B,
                                                        step_tokens, segments, segments == 1 ? "" : "s")
                                          : std::string()));
      if (args.magic_prime > 0 && real_step == args.magic_prime / args.real_bsz - 1) save(-1);
      global_step++;
      res.steps_run = global_step;
    }
    // on_train_epoch_end
    if ((args.epoch_save > 0 && cur_epoch % args.epoch_save == 0) || cur_epoch == args.epoch_count - 1)
    {
      save(real_epoch);
      refresh_curves();
    }
    if (logs) logs->epoch_line(real_epoch, loss_count ? loss_sum / loss_count : 0.0, last_lr, cur_epoch);
    loss_sum = 0, loss_count = 0;
  }
}

}  // namespace rwkv::train
