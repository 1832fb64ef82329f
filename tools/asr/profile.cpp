// tg_asr profile (profile.h). Random features stand in for speech: the work per op depends only on the shapes.
#include "profile.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <vector>

#include <tensorgrad/base/threads.h>
#include <tensorgrad/optim/adam.h>
#include <tensorgrad/optim/clip.h>
#include <tensorgrad/profiler/profile.h>
#include <tensorgrad/tensorgrad.h>

#include "vocabulary.h"

namespace tg::asr {

int profile(const ProfileOptions& o) {
  if (o.threads > 0) set_num_threads(o.threads);
  Generator gen(1);
  ConformerCtc model(o.model, gen);
  const auto frames = static_cast<int64_t>(o.seconds * 100);
  TG_CHECK(o.batch > 0 && frames >= 16, "tg_asr profile: --batch must be positive and --seconds at least 0.16");
  const Tensor x = randn({o.batch, frames, 80}, DType::Float32, gen);
  const Tensor lengths = full({o.batch}, static_cast<double>(frames), DType::Int64);
  const int64_t target_length = std::max<int64_t>(1, frames / 16);  // ~6 characters a second
  const Tensor targets = randint(3, kClasses, {o.batch, target_length}, gen);
  const Tensor target_lengths = full({o.batch}, static_cast<double>(target_length), DType::Int64);
  optim::AdamW opt(model.parameters(), optim::AdamWOptions{.lr = 1e-3});
  auto step = [&] {
    const auto out = model.forward(x, lengths);
    const Tensor loss = ctc_loss(transpose(out.log_probs, 0, 1), targets, out.lengths, target_lengths, {.zero_infinity = true});
    opt.zero_grad();
    loss.backward();
    optim::clip_grad_norm(model.parameters(), 5.0);
    opt.step();
  };
  std::printf("tg_asr profile: batch %lld x %lld frames (%.1f s each), %lld parameters, %d threads\n",
              static_cast<long long>(o.batch), static_cast<long long>(frames), o.seconds,
              static_cast<long long>(model.num_parameters()), num_threads());
  model.train();
  step();  // warm-up: first-touch of the allocator's blocks and the OpenMP team
  if (o.time_steps > 0) {
    std::vector<double> ms;
    for (int64_t i = 0; i < o.time_steps; ++i) {
      const auto start = std::chrono::steady_clock::now();
      step();
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("tg_step_ms median=%.2f min=%.2f threads=%d batch=%lld frames=%lld params=%lld\n", ms[ms.size() / 2],
                ms.front(), num_threads(), static_cast<long long>(o.batch), static_cast<long long>(frames),
                static_cast<long long>(model.num_parameters()));
    return 0;
  }
  {
    model.eval();
    NoGradGuard no_grad;
    model.forward(x, lengths);
    profiler::Profile prof;
    model.forward(x, lengths);
    prof.stop();
    std::printf("\n== one forward (eval, no gradients): %.1f ms ==\n", static_cast<double>(prof.duration_ns()) * 1e-6);
    std::cout << prof.key_averages(true).table("self_cpu_time_total", o.rows);
  }
  model.train();
  profiler::Profile prof;
  step();
  prof.stop();
  std::printf("\n== one training step (forward, CTC, backward, clip, AdamW): %.1f ms ==\n",
              static_cast<double>(prof.duration_ns()) * 1e-6);
  std::cout << prof.key_averages(true).table("self_cpu_time_total", o.rows);
  std::printf("\n== the same step by op, all shapes together ==\n");
  std::cout << prof.key_averages(false).table("self_cpu_time_total", o.rows);
  if (!o.trace.empty()) {
    prof.export_chrome_trace(o.trace);
    std::printf("Chrome trace: %s (open in https://ui.perfetto.dev)\n", o.trace.c_str());
  }
  return 0;
}

}  // namespace tg::asr
