// The kernel tables: built once, on first use, from the reference kernels, the CPU's production kernels and
// the registered backends (see kernel_tables.h); and the op names each family's enum maps to.
#include <tensorgrad/kernels/kernel_tables.h>

#include <iterator>
#include <mutex>
#include <vector>

namespace tg::kernels {

namespace {

struct Registry {
  std::mutex mutex;
  std::vector<void (*)(KernelTables&)> backends;
  KernelTables* tables = nullptr;  // set once the tables are built
};

Registry& registry() {
  static auto* r = new Registry;  // never destroyed: kernels may run during static destruction
  return *r;
}

KernelTables* build_tables() {
  auto* t = new KernelTables;  // never destroyed, as the registry
  ref::register_kernels(*t);
  cpu::register_kernels(*t);
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  for (auto* backend : r.backends) backend(*t);
  r.tables = t;
  return t;
}

}  // namespace

const KernelTables& kernel_tables() {
  static KernelTables* const t = build_tables();
  return *t;
}

const KernelTables& reference_tables() {
  static const KernelTables t = [] {
    KernelTables k;
    ref::register_kernels(k);
    return k;
  }();
  return t;
}

void register_backend(void (*register_kernels)(KernelTables&)) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.backends.push_back(register_kernels);
  if (r.tables != nullptr) register_kernels(*r.tables);
}

// ---- op names: one list per family, in enum order ----
template <class Op, size_t N>
const char* name_in(const char* const (&names)[N], Op op) {
  const auto i = static_cast<size_t>(op);
  return i < N ? names[i] : "?";
}

const char* op_name(UnaryOp op) {
  static constexpr const char* kNames[] = {"neg",     "abs",  "exp",  "log",  "log1p",  "sqrt",
                                           "rsqrt",   "sin",  "cos",  "tanh", "sigmoid", "relu",
                                           "gelu",    "silu", "square", "reciprocal", "sign", "erf",
                                           "floor",   "ceil", "round"};
  static_assert(std::size(kNames) == kUnaryOpCount, "name every unary op");
  return name_in(kNames, op);
}

const char* op_name(BinaryOp op) {
  static constexpr const char* kNames[] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum", "relu_grad",
                                           "eq",  "ne",  "lt",  "le",  "gt",  "ge",      "silu_grad"};
  static_assert(std::size(kNames) == kBinaryOpCount, "name every binary op");
  return name_in(kNames, op);
}

const char* op_name(ReduceOp op) {
  static constexpr const char* kNames[] = {"sum", "prod", "max", "min", "argmax", "argmin"};
  static_assert(std::size(kNames) == kReduceOpCount, "name every reduce op");
  return name_in(kNames, op);
}

const char* op_name(SoftmaxOp op) {
  static constexpr const char* kNames[] = {"softmax", "log_softmax"};
  static_assert(std::size(kNames) == kSoftmaxOpCount, "name every softmax op");
  return name_in(kNames, op);
}

const char* op_name(IndexOp op) {
  static constexpr const char* kNames[] = {"gather", "scatter_add", "scatter_add_into_zeros"};
  static_assert(std::size(kNames) == kIndexOpCount, "name every index op");
  return name_in(kNames, op);
}

const char* op_name(WindowOp op) {
  static constexpr const char* kNames[] = {"im2col", "col2im", "max_pool_indices"};
  static_assert(std::size(kNames) == kWindowOpCount, "name every window op");
  return name_in(kNames, op);
}

const char* op_name(ConvGemmOp op) {
  static constexpr const char* kNames[] = {"conv_gemm", "conv_gemm_weight_grad"};
  static_assert(std::size(kNames) == kConvGemmOpCount, "name every implicit-GEMM convolution op");
  return name_in(kNames, op);
}

const char* op_name(RandomOp op) {
  static constexpr const char* kNames[] = {"rand", "randn", "randint", "bernoulli"};
  static_assert(std::size(kNames) == kRandomOpCount, "name every random op");
  return name_in(kNames, op);
}

const char* activation_name(Activation act) {
  switch (act) {
    case Activation::None: return "none";
    case Activation::Relu: return "relu";
    case Activation::Gelu: return "gelu";
  }
  return "?";
}

bool unary_supports_integers(UnaryOp op) {
  return op == UnaryOp::Neg || op == UnaryOp::Abs || op == UnaryOp::Relu || op == UnaryOp::Square ||
         op == UnaryOp::Sign || op == UnaryOp::Floor || op == UnaryOp::Ceil || op == UnaryOp::Round;
}

}  // namespace tg::kernels
