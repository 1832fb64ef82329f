// Op overhead and memory-bound ops. Every case is validated once, then timed in interleaved rounds: round r
// takes one sample of every (threads, case) in turn, so a noisy neighbour slows all of them alike, and the
// median sample is reported. A sample repeats the call in chunks until min_sample_seconds have passed and
// reports the mean time per call.
//
// The cases (bench/torch_ops.py times the same ones in PyTorch):
//   tiny_add            c = a + b, a and b float32 of shape [1] without requires_grad; the result is freed each
//                       iteration (as in a Python loop `c = a + b`), so the time is op + freeing its output.
//   tiny_add_grad       the same with a and b requiring grad (grad mode on): the op records a graph node. Each
//                       result is stored into a pre-sized slot and the chunk's results (outputs and their graph
//                       nodes) are freed after the clock stops: the forward op only, teardown not included.
//   tiny_add_grad_free  as tiny_add_grad, but the result (and with it its node) is freed every iteration: op +
//                       graph teardown.
//   add_1m              c = a + b on contiguous float32 vectors of `big` elements, a new output every call
//                       (freed each iteration: the caching allocator hands the same block back).
//   sum_1m              s = a.sum() over `big` float32 elements (a 0-d result).
//   ctc_fwd_bwd         CTC loss (mean) and its backward to the log-probabilities: T 200, batch 16, 32 classes,
//                       targets of 40, float32 (issue 15's benchmark); the gradient is dropped after each call.
//   conformer_fwd_bwd   one Conformer block (d_model 144, 4 heads, feed-forward 576, depthwise kernel 31, dropout
//                       0, train mode) on [16, 200, 144] float32: forward, sum, backward; gradients set to none.
//   attention_L512, attention_L2048
//                       scaled_dot_product_attention forward and backward (a fixed random grad_out) on q, k, v
//                       [2, 4, L, 64] float32, L = S, no mask (issue 15's attention benchmark); gradients set to
//                       none.
#include "ops_bench.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <thread>

#include <tensorgrad/base/threads.h>
#include <tensorgrad/tensorgrad.h>

#include "bench_util.h"

namespace tg::bench {

namespace {

struct Case {
  std::string name;
  // Runs `calls` calls and returns the seconds they took (what is outside the timed part is the case's own).
  std::function<double(int64_t calls)> run;
  int64_t chunk = 1;  // calls per run() in a sample
};

double seconds(clock::time_point t0, clock::time_point t1) { return std::chrono::duration<double>(t1 - t0).count(); }

// Mean seconds per call over >= min_seconds of calls.
double sample(const Case& c, double min_seconds) {
  double timed = 0;
  int64_t calls = 0;
  const auto start = clock::now();
  do {
    timed += c.run(c.chunk);
    calls += c.chunk;
  } while (seconds(start, clock::now()) < min_seconds);
  return timed / double(calls);
}

}  // namespace

int run_ops_bench(const OpsBenchOptions& opt) {
  const Tensor a1 = full({1}, 1.5), b1 = full({1}, 2.25);
  Tensor ga = full({1}, 1.5), gb = full({1}, 2.25);
  ga.requires_grad_(true);
  gb.requires_grad_(true);
  Generator gen(1234);
  const Tensor x = rand({opt.big}, DType::Float32, gen), y = rand({opt.big}, DType::Float32, gen);

  // Validate what is timed.
  {
    const Tensor c = add(a1, b1);
    const Tensor g = add(ga, gb);
    const Tensor big_sum = add(x, y);
    const float* px = x.data<float>();
    const float* py = y.data<float>();
    const float* pc = big_sum.data<float>();
    double want = 0;
    for (int64_t i = 0; i < opt.big; ++i) {
      if (pc[i] != px[i] + py[i]) {
        std::fprintf(stderr, "tensorgrad-bench ops: add disagrees at %lld\n", static_cast<long long>(i));
        return 1;
      }
      want += px[i];
    }
    const double got = sum(x).item();
    if (c.item() != 3.75 || g.item() != 3.75 || !g.requires_grad() ||
        std::abs(got - want) > 1e-5 * std::abs(want)) {
      std::fprintf(stderr, "tensorgrad-bench ops: validation failed (sum %.9g, want %.9g)\n", got, want);
      return 1;
    }
  }

  constexpr int64_t kTinyChunk = 1000;
  std::vector<Tensor> slots(static_cast<size_t>(kTinyChunk));
  std::vector<Case> cases;
  cases.push_back({"tiny_add",
                   [&](int64_t n) {
                     const auto t0 = clock::now();
                     for (int64_t i = 0; i < n; ++i) {
                       Tensor c = add(a1, b1);
                     }
                     return seconds(t0, clock::now());
                   },
                   kTinyChunk});
  cases.push_back({"tiny_add_grad",
                   [&](int64_t n) {
                     const auto t0 = clock::now();
                     for (int64_t i = 0; i < n; ++i) slots[static_cast<size_t>(i)] = add(ga, gb);
                     const auto t1 = clock::now();
                     for (int64_t i = 0; i < n; ++i) slots[static_cast<size_t>(i)] = Tensor();  // untimed teardown
                     return seconds(t0, t1);
                   },
                   kTinyChunk});
  cases.push_back({"tiny_add_grad_free",
                   [&](int64_t n) {
                     const auto t0 = clock::now();
                     for (int64_t i = 0; i < n; ++i) {
                       Tensor c = add(ga, gb);
                     }
                     return seconds(t0, clock::now());
                   },
                   kTinyChunk});
  cases.push_back({"add_1m",
                   [&](int64_t n) {
                     const auto t0 = clock::now();
                     for (int64_t i = 0; i < n; ++i) {
                       Tensor c = add(x, y);
                     }
                     return seconds(t0, clock::now());
                   },
                   1});
  cases.push_back({"sum_1m",
                   [&](int64_t n) {
                     const auto t0 = clock::now();
                     for (int64_t i = 0; i < n; ++i) {
                       Tensor s = sum(x);
                     }
                     return seconds(t0, clock::now());
                   },
                   1});

  // CTC: log_probs [200, 16, 32] a leaf, labels 1..31 drawn from a fixed generator.
  Generator ctc_gen(99);
  const Tensor ctc_lp = log_softmax(randn({200, 16, 32}, DType::Float32, ctc_gen), 2).detach().requires_grad_(true);
  const Tensor ctc_targets = randint(1, 32, {16, 40}, ctc_gen);
  const Tensor ctc_in = full({16}, 200, DType::Int64), ctc_tl = full({16}, 40, DType::Int64);
  if (!std::isfinite(ctc_loss(ctc_lp, ctc_targets, ctc_in, ctc_tl).item())) {
    std::fprintf(stderr, "ctc_fwd_bwd: the loss is not finite\n");
    return 1;
  }
  cases.push_back({"ctc_fwd_bwd",
                   [&](int64_t n) {
                     const auto t0 = clock::now();
                     for (int64_t i = 0; i < n; ++i) {
                       ctc_loss(ctc_lp, ctc_targets, ctc_in, ctc_tl).backward();
                       ctc_lp.zero_grad();
                     }
                     return seconds(t0, clock::now());
                   },
                   1});

  nn::ConformerBlock conformer(144, 4, {.ffn_dim = 576, .depthwise_kernel_size = 31, .dropout = 0.0}, ctc_gen);
  conformer.train();
  const Tensor conformer_x = randn({16, 200, 144}, DType::Float32, ctc_gen);
  cases.push_back({"conformer_fwd_bwd",
                   [&](int64_t n) {
                     const auto t0 = clock::now();
                     for (int64_t i = 0; i < n; ++i) {
                       sum(conformer.forward(conformer_x, {})).backward();
                       conformer.zero_grad();
                     }
                     return seconds(t0, clock::now());
                   },
                   1});

  // Attention: batch 2, 4 heads, head dim 64, L = S.
  std::vector<std::array<Tensor, 4>> attention_inputs;  // q, k, v, grad_out per length
  for (int64_t L : {512, 2048}) {
    std::array<Tensor, 4> in;
    for (Tensor& t : in) t = randn({2, 4, L, 64}, DType::Float32, ctc_gen);
    for (int i = 0; i < 3; ++i) in[static_cast<size_t>(i)].requires_grad_(true);
    attention_inputs.push_back(in);
  }
  for (size_t li = 0; li < attention_inputs.size(); ++li)
    cases.push_back({li == 0 ? "attention_L512" : "attention_L2048",
                     [&, li](int64_t n) {
                       auto& [q, k, v, go] = attention_inputs[li];
                       const auto t0 = clock::now();
                       for (int64_t i = 0; i < n; ++i) {
                         scaled_dot_product_attention(q, k, v).backward(go);
                         for (Tensor* t : {&q, &k, &v}) t->zero_grad();
                       }
                       return seconds(t0, clock::now());
                     },
                     1});

  // Warm-up: every case at every thread count once (first-touch of the allocator's blocks, OpenMP team).
  for (int t : opt.threads) {
    set_num_threads(t);
    for (const Case& c : cases) sample(c, 0.01);
  }

  std::vector<std::vector<std::vector<double>>> samples(
      opt.threads.size(), std::vector<std::vector<double>>(cases.size()));
  for (int rep = 0; rep < opt.repetitions; ++rep)
    for (size_t ti = 0; ti < opt.threads.size(); ++ti) {
      set_num_threads(opt.threads[ti]);
      for (size_t ci = 0; ci < cases.size(); ++ci)
        samples[ti][ci].push_back(sample(cases[ci], opt.min_sample_seconds) * 1e6);
    }

  if (opt.tsv) {
    for (size_t ti = 0; ti < opt.threads.size(); ++ti)
      for (size_t ci = 0; ci < cases.size(); ++ci)
        std::printf("%s\t%d\t%.6f\n", cases[ci].name.c_str(), opt.threads[ti], median(samples[ti][ci]));
    return 0;
  }
  std::printf("# tensorgrad-bench ops\n\n");
  std::printf("- %u hardware threads; 1M = %lld float32 elements; median of %d interleaved samples of >= %.3f s\n\n",
              std::thread::hardware_concurrency(), static_cast<long long>(opt.big), opt.repetitions,
              opt.min_sample_seconds);
  std::printf("| case | threads | us per call (median) | min | max |\n|---|---:|---:|---:|---:|\n");
  for (size_t ci = 0; ci < cases.size(); ++ci)
    for (size_t ti = 0; ti < opt.threads.size(); ++ti) {
      const auto& s = samples[ti][ci];
      std::printf("| %s | %d | %.4f | %.4f | %.4f |\n", cases[ci].name.c_str(), opt.threads[ti], median(s),
                  *std::min_element(s.begin(), s.end()), *std::max_element(s.begin(), s.end()));
    }
  return 0;
}

}  // namespace tg::bench
