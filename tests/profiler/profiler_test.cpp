// The profiler: exact call counts, self/total times that add up, consistent nesting, backward nodes named
// after their forward op, memory columns that agree with the allocator, FLOPs, the table and the Chrome trace.
#include <gtest/gtest.h>
#include <tensorgrad/tensorgrad.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

namespace {

using namespace tg;
using profiler::Event;
using profiler::EventKind;
using profiler::Profile;

#if TG_PROFILER_ENABLED

std::map<std::string, int64_t> counts_by_name(const Profile& prof) {
  std::map<std::string, int64_t> counts;
  const auto averages = prof.key_averages();
  for (const auto& row : averages.rows()) counts[row.name] = row.count;
  return counts;
}

const profiler::OpStats* row_named(const profiler::KeyAverages& averages, const std::string& name) {
  for (const auto& row : averages.rows())
    if (row.name == name) return &row;
  return nullptr;
}

TEST(Profiler, CountsEveryOpCallExactly) {
  Generator gen(1);
  const Tensor a = randn({8, 8}, DType::Float32, gen), b = randn({8, 8}, DType::Float32, gen);
  Profile prof;
  Tensor x = a;
  for (int i = 0; i < 3; ++i) x = add(x, b);
  for (int i = 0; i < 2; ++i) x = matmul(x, a);
  x = relu(x);
  for (int i = 0; i < 4; ++i) x = mul(x, b);
  prof.stop();
  const std::map<std::string, int64_t> expected{{"add", 3}, {"matmul", 2}, {"relu", 1}, {"mul", 4}};
  EXPECT_EQ(counts_by_name(prof), expected);
  EXPECT_EQ(prof.events().size(), 10u);
  for (const Event& e : prof.events()) {
    EXPECT_EQ(e.kind, EventKind::Op);
    EXPECT_EQ(e.depth, 0) << e.name;
    EXPECT_EQ(e.input_shapes, e.name == "relu" ? "[[8, 8]]" : "[[8, 8], [8, 8]]") << e.name;
    EXPECT_EQ(e.input_dtypes, e.name == "relu" ? "float32" : "float32, float32") << e.name;
  }
}

TEST(Profiler, RecordsNothingWhenNoProfileRuns) {
  Generator gen(2);
  const Tensor a = randn({4, 4}, DType::Float32, gen);
  EXPECT_FALSE(profiler::is_enabled());
  Tensor y = matmul(a, a) + a;  // not recorded: no profile is running
  Profile prof;
  EXPECT_TRUE(profiler::is_enabled());
  prof.stop();
  EXPECT_FALSE(profiler::is_enabled());
  EXPECT_TRUE(prof.events().empty());
  EXPECT_EQ(prof.key_averages().self_total_ns(), 0);
}

TEST(Profiler, OneProfileAtATime) {
  Profile first;
  EXPECT_THROW(Profile second, Error);
  first.stop();
  Profile third;  // fine once the first has stopped
  EXPECT_TRUE(third.running());
}

TEST(Profiler, BackwardNodesAreNamedAfterTheirForwardOp) {
  Generator gen(3);
  const Tensor x = randn({4, 5}, DType::Float64, gen).requires_grad_(true);
  const Tensor w = randn({5, 3}, DType::Float64, gen).requires_grad_(true);
  const Tensor loss = sum(relu(matmul(x, w)));
  Profile prof;
  loss.backward();
  prof.stop();
  const auto counts = counts_by_name(prof);
  EXPECT_EQ(counts.at("sum_backward"), 1);
  EXPECT_EQ(counts.at("relu_backward"), 1);
  EXPECT_EQ(counts.at("matmul_backward"), 1);
  EXPECT_EQ(counts.at("AccumulateGrad"), 2);
  const auto& events = prof.events();
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    const bool is_node = e.name.ends_with("_backward") || e.name == "AccumulateGrad";
    EXPECT_EQ(e.kind == EventKind::Backward, is_node) << e.name;
    if (e.name != "matmul_backward") continue;
    // Its VJP runs two matmuls (for x and w), recorded inside it.
    int child_matmuls = 0;
    for (const Event& c : events) child_matmuls += c.parent == static_cast<int64_t>(i) && c.name == "matmul";
    EXPECT_EQ(child_matmuls, 2);
    EXPECT_EQ(e.input_shapes, "[[4, 3]]");
  }
}

// A backward computes gradients only for the operands that require one: masked_fill's constant fill value, a
// constant factor and a mask get none (each would be a pass over the output, and a sum back to its shape).
TEST(Profiler, ConstantOperandsGetNoGradientComputed) {
  Generator gen(5);
  const Tensor x = randn({6, 7}, DType::Float32, gen).requires_grad_(true);
  const Tensor c = randn({6, 7}, DType::Float32, gen);
  const Tensor mask = gt(randn({6, 1}, DType::Float32, gen), full({}, 0.0));
  const Tensor loss = sum(masked_fill(x, mask, 0.0) * c - c / 2.0);
  Profile prof;
  loss.backward();
  prof.stop();
  const auto counts = counts_by_name(prof);
  EXPECT_EQ(counts.at("where"), 1) << "masked_fill's backward: the input's gradient only";
  EXPECT_EQ(counts.at("mul"), 1) << "x * c: x's gradient only";
  EXPECT_EQ(counts.count("neg"), 0u) << "- c / 2: c requires no gradient";
  EXPECT_EQ(counts.count("div"), 0u);
  EXPECT_EQ(counts.count("sum_to"), 0u) << "no gradient summed back to the scalar fill value";
}

// A workload of several GEMMs wrapped in one user range.
void run_workload() {
  Generator gen(4);
  const Tensor w = randn({96, 96}, DType::Float32, gen).requires_grad_(true);
  Tensor x = randn({64, 96}, DType::Float32, gen);
  for (int i = 0; i < 4; ++i) x = tanh(linear(x, w));
  sum(x).backward();
}

TEST(Profiler, SelfTimesSumToTheProfiledWallTime) {
  Profile prof;
  const auto start = std::chrono::steady_clock::now();
  {
    TG_PROFILE_SCOPE("workload");
    run_workload();
  }
  const auto wall_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
  prof.stop();
  const auto& events = prof.events();
  ASSERT_FALSE(events.empty());
  int64_t self_sum = 0;
  const Event* root = nullptr;
  for (const Event& e : events) {
    self_sum += e.self_ns;
    if (e.name == "workload") root = &e;
  }
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->kind, EventKind::User);
  EXPECT_EQ(root->parent, -1);
  // Everything ran inside the root range on this thread, so the selves partition its time exactly...
  EXPECT_EQ(self_sum, root->total_ns());
  EXPECT_EQ(prof.key_averages().self_total_ns(), self_sum);
  // ...and that time is the wall time measured around it, and almost all of the profile's duration.
  EXPECT_LE(root->total_ns(), wall_ns);
  EXPECT_GE(static_cast<double>(root->total_ns()), 0.9 * static_cast<double>(wall_ns));
  EXPECT_LE(root->total_ns(), prof.duration_ns());
  EXPECT_GE(static_cast<double>(self_sum), 0.9 * static_cast<double>(prof.duration_ns()));
}

TEST(Profiler, NestingIsConsistent) {
  Profile prof;
  run_workload();
  prof.stop();
  const auto& events = prof.events();
  std::vector<int64_t> children_total(events.size(), 0);
  int linear_with_matmul_child = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    EXPECT_GE(e.self_ns, 0) << e.name;
    EXPECT_GE(e.total_ns(), e.self_ns) << e.name;
    if (e.parent < 0) {
      EXPECT_EQ(e.depth, 0);
      continue;
    }
    ASSERT_LT(e.parent, static_cast<int64_t>(i)) << "a parent comes before its children";
    const Event& p = events[static_cast<size_t>(e.parent)];
    EXPECT_EQ(e.depth, p.depth + 1);
    EXPECT_EQ(e.thread, p.thread);
    EXPECT_GE(e.start_ns, p.start_ns) << e.name << " in " << p.name;
    EXPECT_LE(e.end_ns, p.end_ns) << e.name << " in " << p.name;
    children_total[static_cast<size_t>(e.parent)] += e.total_ns();
    linear_with_matmul_child += p.name == "linear" && e.name == "matmul";
  }
  EXPECT_EQ(linear_with_matmul_child, 4);
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].self_ns, events[i].total_ns() - children_total[i]);
  const auto averages = prof.key_averages();
  for (const auto& row : averages.rows()) {
    EXPECT_GE(row.total_ns, row.self_ns) << row.name;
    EXPECT_GE(row.self_ns, 0) << row.name;
  }
}

TEST(Profiler, MemoryColumnsMatchTheAllocator) {
  Allocator& allocator = cpu_allocator();
  Tensor kept_a, kept_b;
  Profile prof;
  const AllocatorStats before = allocator.stats();
  {
    TG_PROFILE_SCOPE("allocations");
    kept_a = Tensor::empty({1000}, DType::Float32);  // 4000 bytes, kept
    kept_b = Tensor::empty({250}, DType::Float64);   // 2000 bytes, kept
    { const Tensor temporary = Tensor::empty({100}, DType::Float32); }  // 400 bytes, freed at once
  }
  const AllocatorStats inside = allocator.stats();
  const Tensor sum_ab = add(kept_a, kept_a);  // the op allocates its 4000-byte output
  kept_a = Tensor();
  kept_b = Tensor();
  const AllocatorStats after = allocator.stats();
  prof.stop();

  const auto averages = prof.key_averages();
  const auto* scope = row_named(averages, "allocations");
  ASSERT_NE(scope, nullptr);
  EXPECT_EQ(scope->bytes_allocated, 6400);
  EXPECT_EQ(scope->bytes_freed, 400);
  EXPECT_EQ(scope->self_memory(), inside.current_bytes - before.current_bytes);
  EXPECT_EQ(inside.allocations - before.allocations, 3);
  const auto* add_row = row_named(averages, "add");
  ASSERT_NE(add_row, nullptr);
  EXPECT_EQ(add_row->bytes_allocated, 4000);
  EXPECT_EQ(add_row->self_memory(), 4000);
  // The profile's totals cover allocations outside any range too (the two frees above).
  EXPECT_EQ(prof.bytes_allocated(), 6400 + 4000);
  EXPECT_EQ(prof.bytes_freed(), 400 + 6000);
  EXPECT_EQ(prof.bytes_allocated() - prof.bytes_freed(), after.current_bytes - before.current_bytes);
  const std::string table = averages.table("self_cpu_memory_usage");
  EXPECT_NE(table.find("5.86 KiB"), std::string::npos) << table;  // 6000 bytes
}

TEST(Profiler, CountsGemmFlops) {
  Generator gen(5);
  const Tensor a = randn({2, 3, 4}, DType::Float32, gen), b = randn({4, 5}, DType::Float32, gen);
  const Tensor x = randn({8, 16}, DType::Float32, gen), w = randn({4, 16}, DType::Float32, gen);
  const Tensor img = randn({2, 3, 8, 8}, DType::Float32, gen), k = randn({4, 3, 3, 3}, DType::Float32, gen);
  Profile prof;
  matmul(a, b);
  linear(x, w);
  conv2d(img, k, {}, 1, 1);
  prof.stop();
  std::map<std::string, int64_t> flops;
  for (const Event& e : prof.events())
    if (e.depth == 0) flops[e.name] = e.flops;
  EXPECT_EQ(flops.at("matmul"), 2 * 2 * 3 * 5 * 4);
  EXPECT_EQ(flops.at("linear"), 2 * 8 * 4 * 16);
  EXPECT_EQ(flops.at("conv2d"), 2 * 2 * 4 * (8 * 8) * (3 * 3 * 3));
  const auto averages = prof.key_averages();
  const auto* linear_row = row_named(averages, "linear");
  ASSERT_NE(linear_row, nullptr);
  EXPECT_GT(linear_row->gflops_per_second(), 0.0);
}

TEST(Profiler, TableSortsLimitsAndGroupsByInputShape) {
  Generator gen(6);
  const Tensor small = randn({4, 4}, DType::Float32, gen), big = randn({64, 64}, DType::Float32, gen);
  Profile prof;
  for (int i = 0; i < 3; ++i) matmul(small, small);
  matmul(big, big);
  relu(big);
  prof.stop();
  EXPECT_EQ(prof.key_averages().rows().size(), 2u);
  const auto grouped = prof.key_averages(/*group_by_input_shape=*/true);
  EXPECT_EQ(grouped.rows().size(), 3u);
  const std::string table = grouped.table("count", 1);
  for (const char* column : {"Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
                             "Self Mem", "# of Calls", "GFLOP/s", "Input Shapes", "Self CPU time total:"})
    EXPECT_NE(table.find(column), std::string::npos) << column << " missing:\n" << table;
  EXPECT_NE(table.find("[[4, 4], [4, 4]]"), std::string::npos) << table;  // the most frequent row...
  EXPECT_EQ(table.find("relu"), std::string::npos) << table;               // ...and only that one
  const std::string by_self = prof.key_averages().table();
  EXPECT_EQ(prof.key_averages().table("self_cpu_time_total", 0), by_self);
  EXPECT_THROW(prof.key_averages().table("bogus"), Error);
  // Rows come out in descending order of the key.
  std::vector<int64_t> selves;
  const auto averages = prof.key_averages();
  std::istringstream lines(averages.table("self_cpu_time_total"));
  std::string line;
  while (std::getline(lines, line))
    for (const auto& row : averages.rows())
      if (line.rfind(row.name + " ", 0) == 0) selves.push_back(row.self_ns);
  ASSERT_EQ(selves.size(), 2u);
  EXPECT_GE(selves[0], selves[1]);
}

TEST(Profiler, ChromeTraceHasOneCompleteEventPerRecordedEvent) {
  Profile prof;
  {
    TG_PROFILE_SCOPE("step \"quoted\"\n");  // names are escaped
    run_workload();
  }
  prof.stop();
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("tg_profiler_trace_" + std::to_string(::getpid()) + ".json");
  prof.export_chrome_trace(path.string());
  std::ifstream in(path);
  const nlohmann::json trace = nlohmann::json::parse(in);
  std::filesystem::remove(path);
  std::map<std::string, int64_t> trace_counts, profile_counts;
  for (const auto& e : trace.at("traceEvents")) {
    if (e.at("ph") != "X") continue;
    ++trace_counts[e.at("name").get<std::string>()];
    EXPECT_GE(e.at("dur").get<double>(), 0.0);
    EXPECT_GE(e.at("ts").get<double>(), 0.0);
    EXPECT_TRUE(e.contains("pid") && e.contains("tid") && e.contains("cat"));
  }
  for (const Event& e : prof.events()) ++profile_counts[e.name];
  EXPECT_EQ(trace_counts, profile_counts);
  EXPECT_EQ(trace_counts.at("step \"quoted\"\n"), 1);
}

TEST(Profiler, RecordsEveryThreadSeparately) {
  Generator gen(7);
  const Tensor a = randn({16, 16}, DType::Float32, gen);
  Profile prof;
  add(a, a);
  std::thread worker([&] {
    TG_PROFILE_SCOPE("worker");
    mul(a, a);
  });
  worker.join();
  prof.stop();
  std::map<std::string, uint32_t> thread_of;
  for (const Event& e : prof.events()) thread_of[e.name] = e.thread;
  ASSERT_EQ(thread_of.size(), 3u);
  EXPECT_NE(thread_of.at("add"), thread_of.at("mul"));
  EXPECT_EQ(thread_of.at("worker"), thread_of.at("mul"));
}

#else  // TG_PROFILER=OFF

TEST(ProfilerCompiledOut, RecordsNothing) {
  Generator gen(1);
  const Tensor a = randn({4, 4}, DType::Float32, gen);
  Profile prof;
  {
    TG_PROFILE_SCOPE("scope");
    matmul(a, a);
  }
  prof.stop();
  EXPECT_FALSE(profiler::compiled_in());
  EXPECT_TRUE(prof.events().empty());
}

#endif

}  // namespace

namespace {

// A device clock whose marks are numbered in order and 1 us apart: an event's device time is then a
// microsecond per mark taken inside it (its children's two marks each, and its own end mark).
class CountingTimer final : public tg::profiler::DeviceTimer {
 public:
  const char* name() const override { return "FAKE"; }
  int64_t mark() noexcept override { return next_++; }
  int64_t elapsed_ns(int64_t from, int64_t to) override { return (to - from) * 1000; }
  void release_all() noexcept override { ++releases; }
  int releases = 0;

 private:
  int64_t next_ = 0;
};

TEST(Profiler, DeviceTimeColumnsComeFromTheRegisteredDeviceTimer) {
  CountingTimer timer;
  tg::profiler::set_device_timer(&timer);
  tg::profiler::Profile prof;
  {
    TG_PROFILE_SCOPE("step");  // a user range: never device-timed
    tg::Tensor a = tg::ones({4, 4});
    tg::Tensor b = tg::matmul(a, a) + a;  // ops: device-timed
  }
  prof.stop();
  tg::profiler::set_device_timer(nullptr);
  EXPECT_EQ(timer.releases, 1);
  int64_t ops = 0;
  for (const tg::profiler::Event& e : prof.events()) {
    if (e.kind == tg::profiler::EventKind::User) {
      EXPECT_EQ(e.device_ns, -1) << e.name;
      continue;
    }
    ++ops;
    ASSERT_GE(e.device_ns, 1000) << e.name;  // at least its own end mark
    int64_t children = 0;
    for (const tg::profiler::Event& c : prof.events())
      if (c.parent >= 0 && &prof.events()[static_cast<size_t>(c.parent)] == &e && c.device_ns >= 0) children += c.device_ns;
    EXPECT_EQ(e.self_device_ns, e.device_ns - children) << e.name;
  }
  EXPECT_GE(ops, 3);
  const auto avg = prof.key_averages();
  EXPECT_EQ(avg.device(), "FAKE");
  const std::string table = avg.table("self_device_time_total");
  EXPECT_NE(table.find("Self FAKE %"), std::string::npos) << table;
  EXPECT_NE(table.find("FAKE time avg"), std::string::npos) << table;
  EXPECT_NE(table.find("Self FAKE time total"), std::string::npos) << table;
  EXPECT_NO_THROW(avg.table("cuda_time_total"));
  // An op inside a user range inside an op: the inner op's device time comes off the outer op's self time
  // (the nearest enclosing event with device time), so self device times add up to the outermost totals.
  CountingTimer nested_timer;
  tg::profiler::set_device_timer(&nested_timer);
  tg::profiler::Profile nested;
  {
    tg::profiler::RecordScope outer([](tg::profiler::EventInfo& info) { info.name = "outer_op"; });
    TG_PROFILE_SCOPE("range");
    tg::Tensor z = tg::ones({3}) + 1.0;
  }
  nested.stop();
  tg::profiler::set_device_timer(nullptr);
  int64_t self_sum = 0, outer_total = -1;
  for (const tg::profiler::Event& e : nested.events()) {
    if (e.device_ns < 0) continue;
    self_sum += e.self_device_ns;
    if (e.name == "outer_op") outer_total = e.device_ns;
    EXPECT_GE(e.self_device_ns, 0) << e.name;
  }
  ASSERT_GT(outer_total, 0);
  EXPECT_EQ(self_sum, outer_total);
  // Without a timer the columns are absent.
  tg::profiler::Profile plain;
  tg::Tensor c = tg::ones({2}) * 2.0;
  plain.stop();
  EXPECT_EQ(plain.key_averages().table().find("FAKE"), std::string::npos);
}

}  // namespace
