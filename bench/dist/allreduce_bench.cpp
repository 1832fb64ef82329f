// All-reduce latency against message size, interleaved in the same run on the same buffer: tg::dist's blocking
// all_reduce on the fast path (MPI_Allreduce under the watchdog, CommOptions::blocking_fast_path, the default)
// and on the polled path (non-blocking MPI_Iallreduce completed by polling MPI_Test against a deadline), against
// the plain blocking MPI_Allreduce, MPI_Iallreduce + MPI_Wait, and MPI_Iallreduce + an MPI_Test loop. Run under
// mpirun:
//   mpirun -np 2 build/bench/dist/allreduce_bench [repetitions]
// Prints, per size, the median over repetitions of the slowest rank's time per call (microseconds), the ratios
// of those medians fast/Allreduce and polled/(Iallreduce+Test), and the medians of the same ratios taken per
// round ("paired": each of ours timed right next to its MPI counterpart).
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include <tensorgrad/tensorgrad.h>

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Seconds per call of `fn`, the slowest rank's, one sample per repetition of `inner` calls.
std::vector<double> sample(const std::function<void()>& fn, int repetitions, int inner) {
  std::vector<double> samples;
  for (int r = 0; r < repetitions; ++r) {
    MPI_Barrier(MPI_COMM_WORLD);
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < inner; ++i) fn();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / inner;
    MPI_Allreduce(MPI_IN_PLACE, &seconds, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    samples.push_back(seconds);
  }
  return samples;
}

}  // namespace

int main(int argc, char** argv) {
  const int repetitions = argc > 1 ? std::atoi(argv[1]) : 15;
  tg::dist::CommOptions options = tg::dist::options_from_env();
  options.blocking_fast_path = true;
  auto comm = tg::dist::make_mpi_communicator(options);  // initialises MPI
  options.blocking_fast_path = false;
  auto polled_comm = tg::dist::make_mpi_communicator(options);
  const bool leader = comm->rank() == 0;
  MPI_Comm duplicate;
  MPI_Comm_dup(MPI_COMM_WORLD, &duplicate);
  if (leader)
    std::printf("ranks %d, %d repetitions, median of the slowest rank per call (us)\n%10s %10s %10s %10s %10s %10s %9s "
                "%11s %11s %13s\n",
                comm->world_size(), repetitions, "floats", "tg fast", "tg polled", "Allreduce", "Iallr+Wait",
                "Iallr+Test", "fast/raw", "polled/Test", "paired f/r", "paired p/T");
  for (int64_t n = 256; n <= (int64_t{1} << 22); n *= 4) {
    tg::Tensor t = tg::full({n}, 1.0);
    float* p = t.data<float>();
    const int count = static_cast<int>(n);
    // At least 4 calls per sample: single-call samples of the large sizes were at the mercy of the load.
    const int inner = std::max(4, static_cast<int>((int64_t{1} << 22) / n / 8));
    auto ours = [&] { comm->all_reduce(t, tg::dist::ReduceOp::Sum); };
    auto ours_polled = [&] { polled_comm->all_reduce(t, tg::dist::ReduceOp::Sum); };
    auto raw = [&] { MPI_Allreduce(MPI_IN_PLACE, p, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD); };
    auto nonblocking = [&] {
      MPI_Request request;
      MPI_Iallreduce(MPI_IN_PLACE, p, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &request);
      MPI_Wait(&request, MPI_STATUS_IGNORE);
    };
    auto polled = [&] {
      MPI_Request request;
      MPI_Iallreduce(MPI_IN_PLACE, p, count, MPI_FLOAT, MPI_SUM, duplicate, &request);
      int flag = 0;
      while (!flag) MPI_Test(&request, &flag, MPI_STATUS_IGNORE);
    };
    sample(ours, 2, inner);  // warm-up
    sample(ours_polled, 2, inner);
    sample(raw, 2, inner);
    std::vector<double> a, e, b, c, d, ab, ed;
    // Interleaved, so load from other processes hits all of them alike; each of ours runs next to the MPI call it
    // is compared with, the order of the two alternating between rounds, and the per-round ratios are kept too:
    // their median is steadier than the ratio of medians when the load comes in bursts.
    auto pair = [&](const std::function<void()>& first, const std::function<void()>& second, bool swap,
                    std::vector<double>& x, std::vector<double>& y, std::vector<double>& ratio) {
      const double tx = swap ? 0 : sample(first, 1, inner)[0];
      const double ty = sample(second, 1, inner)[0];
      const double tx2 = swap ? sample(first, 1, inner)[0] : tx;
      x.push_back(tx2);
      y.push_back(ty);
      ratio.push_back(tx2 / ty);
    };
    for (int r = 0; r < repetitions; ++r) {
      pair(ours, raw, r % 2 == 1, a, b, ab);
      pair(ours_polled, polled, r % 2 == 1, e, d, ed);
      c.push_back(sample(nonblocking, 1, inner)[0]);
    }
    const double ta = median(a) * 1e6, te = median(e) * 1e6, tb = median(b) * 1e6, tc = median(c) * 1e6,
                 td = median(d) * 1e6;
    if (leader)
      std::printf("%10lld %10.1f %10.1f %10.1f %10.1f %10.1f %9.2f %11.2f %11.2f %13.2f\n", static_cast<long long>(n),
                  ta, te, tb, tc, td, ta / tb, te / td, median(ab), median(ed));
  }
  polled_comm.reset();
  comm.reset();
  return 0;
}
