// Drives every op in op_table() through: Forward (float64 and float32, four memory layouts, against the
// independent reference), Vjp (gradcheck in float64, contiguous and non-contiguous), GradGrad
// (gradgradcheck) and DTypes (promotion of mixed inputs).
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "ops/op_table.h"

namespace tgtest {
namespace {

using tg::TensorList;

constexpr Layout kLayouts[] = {Layout::Contiguous, Layout::Transposed, Layout::Strided, Layout::Expanded};

uint32_t seed_of(const std::string& s) {
  uint32_t h = 2166136261u;  // FNV-1a: stable across standard libraries, unlike std::hash
  for (unsigned char ch : s) h = (h ^ ch) * 16777619u;
  return h;
}

bool is_float(Dom d) { return d != Dom::Index && d != Dom::Bool; }

DType dtype_for(Dom d, DType float_dtype) {
  if (d == Dom::Index) return DType::Int64;
  if (d == Dom::Bool) return DType::Bool;
  return float_dtype;
}

// bool < int64 < {bfloat16, float16} < float32 < float64 (bfloat16 with float16: float32), written out here
// rather than asking tg::promote_types.
DType promoted(DType a, DType b) {
  auto rank = [](DType d) {
    switch (d) {
      case DType::Bool: return 0;
      case DType::Int64: return 1;
      case DType::BFloat16:
      case DType::Float16: return 2;
      case DType::Float32: return 3;
      case DType::Float64: return 4;
    }
    return -1;
  };
  if (a != b && rank(a) == rank(b) && rank(a) == 2) return DType::Float32;
  return rank(a) >= rank(b) ? a : b;
}

// The unit roundoff of a 16-bit format: half the distance from 1 to the next value (2^-8 for bfloat16's 7
// mantissa bits, 2^-11 for float16's 10).
double unit_roundoff(DType d) { return d == DType::BFloat16 ? 0x1p-8 : 0x1p-11; }

// The dtype an op's output has for float inputs of dtype `dt`.
DType output_dtype(const OpSpec& spec, DType dt) {
  return spec.out == OutKind::Bool ? DType::Bool : spec.out == OutKind::Int64 ? DType::Int64 : dt;
}

Tolerance tolerance(const OpSpec& spec, bool any_float32) {
  return any_float32 ? Tolerance{spec.f32_rtol, 1e-5} : Tolerance{1e-10, 1e-12};
}

std::string describe(const OpSpec& spec, size_t ci, const Case& c, const std::string& extra) {
  std::ostringstream os;
  os << spec.name << " case " << ci << " (";
  for (size_t i = 0; i < c.shapes.size(); ++i) os << (i ? ", " : "") << shape_string(c.shapes[i]);
  os << ")";
  if (!c.p.dims.empty()) os << " dims " << shape_string(c.p.dims);
  if (!c.p.shape.empty()) os << " shape " << shape_string(c.p.shape);
  os << " a=" << c.p.a << " b=" << c.p.b << " c=" << c.p.c << " d=" << c.p.d << " s=" << c.p.s
     << " keepdim=" << c.p.keepdim << " variant=" << c.p.variant << " " << extra;
  return os.str();
}

TensorList build(const OpSpec& spec, const std::vector<RefArg>& values, DType float_dtype, Layout layout) {
  TensorList inputs;
  for (size_t i = 0; i < values.size(); ++i)
    inputs.push_back(make_tensor(values[i], dtype_for(spec.args[i], float_dtype), layout));
  return inputs;
}

std::vector<RefArg> read_all(const TensorList& ts) {
  std::vector<RefArg> out;
  for (const auto& t : ts) out.push_back(to_ref(t));
  return out;
}

// Small enough for a full finite-difference Jacobian to stay fast.
bool small(const OpSpec& spec, const std::vector<RefArg>& values, const Params& p) {
  for (const auto& v : values)
    if (v.v.size() > 30) return false;
  return spec.ref(values, p).v.size() <= 40;
}

// The float inputs of a case (the ones forward and reverse mode differentiate), and fn as a function of them.
std::vector<size_t> float_positions(const OpSpec& spec) {
  std::vector<size_t> out;
  for (size_t i = 0; i < spec.args.size(); ++i)
    if (is_float(spec.args[i])) out.push_back(i);
  return out;
}

tg::DifferentiableFn of_floats(const OpSpec& spec, const TensorList& all, const Params& p) {
  const std::vector<size_t> pos = float_positions(spec);
  const OpFn fn = spec.fn;
  return [pos, all, fn, p](const TensorList& xs) {
    TensorList full = all;
    for (size_t k = 0; k < pos.size(); ++k) full[pos[k]] = xs[k];
    return fn(full, p);
  };
}

double dot(const Tensor& a, const Tensor& b) {
  tg::NoGradGuard no_grad;
  return tg::sum(tg::mul(a, b)).item();
}

// One fixture per property, each instantiated only with the ops it applies to, so nothing is registered and
// then skipped: every test listed ran a check that could fail.
class OpForward : public ::testing::TestWithParam<OpSpec> {};
class OpVjp : public ::testing::TestWithParam<OpSpec> {};
class OpGradGrad : public ::testing::TestWithParam<OpSpec> {};
class OpDTypes : public ::testing::TestWithParam<OpSpec> {};
class OpJvp : public ::testing::TestWithParam<OpSpec> {};
class OpHalf : public ::testing::TestWithParam<OpSpec> {};

template <class Keep>
std::vector<OpSpec> ops_where(Keep keep) {
  std::vector<OpSpec> out;
  for (const auto& s : op_table())
    if (keep(s)) out.push_back(s);
  return out;
}

// A 16-bit result: spec.half_ulps unit roundoffs of the format, relative and absolute at the output's scale (an
// op that computes in float32 and rounds once is within one; composed ops round after each step).
Tolerance half_tolerance(const OpSpec& spec, DType dt, const RefArg& want) {
  double scale = 1;
  for (double v : want.v)
    if (std::isfinite(v)) scale = std::max(scale, std::abs(v));
  const double tol = spec.half_ulps * unit_roundoff(dt);
  return {tol, tol * scale};
}

// One forward check: the op on `values` in dtype `dt` and `layout` against the float64 reference of the inputs
// as built (for a 16-bit dtype, the rounded values), the output's dtype, the inputs left unmodified and, when
// the spec promises it, a contiguous output.
void check_forward(const OpSpec& spec, size_t ci, const Case& c, const std::vector<RefArg>& values, DType dt,
                   Layout layout) {
  const std::string what = describe(spec, ci, c, std::string(tg::dtype_name(dt)) + " " + layout_name(layout));
  const TensorList inputs = build(spec, values, dt, layout);
  const std::vector<RefArg> before = read_all(inputs);
  const RefArg want = spec.ref(before, c.p);
  Tensor out;
  try {
    out = spec.fn(inputs, c.p);
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": threw " << e.what();
    return;
  }
  EXPECT_EQ(out.dtype(), output_dtype(spec, dt)) << what;
  const Tolerance tol = tg::is_half(dt) ? half_tolerance(spec, dt, want) : tolerance(spec, dt == DType::Float32);
  const std::string diff = compare(to_ref(out), want, tol);
  EXPECT_TRUE(diff.empty()) << what << ": " << diff;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const RefArg after = to_ref(inputs[i]);
    EXPECT_TRUE(compare(after, before[i], {0, 0}).empty()) << what << ": input " << i << " was modified";
  }
  if (spec.out_contiguous) {
    EXPECT_TRUE(out.is_contiguous()) << what;
  }
}

TEST_P(OpForward, MatchesReference) {
  const OpSpec& spec = GetParam();
  RecordProperty("cases", static_cast<int>(spec.cases.size()));
  std::mt19937 rng(seed_of(spec.name));
  for (size_t ci = 0; ci < spec.cases.size(); ++ci) {
    const std::vector<RefArg> values = draw_inputs(spec, spec.cases[ci], rng);
    for (DType dt : {DType::Float64, DType::Float32})
      for (Layout layout : kLayouts) check_forward(spec, ci, spec.cases[ci], values, dt, layout);
  }
}

// bfloat16 and float16: inputs rounded to the format, the float64 reference computed from those rounded
// inputs, the result within half_tolerance.
TEST_P(OpHalf, MatchesReferenceInBFloat16AndFloat16) {
  const OpSpec& spec = GetParam();
  std::mt19937 rng(seed_of(spec.name) + 5);
  for (size_t ci = 0; ci < spec.cases.size(); ++ci) {
    const std::vector<RefArg> values = draw_inputs(spec, spec.cases[ci], rng);
    for (DType dt : {DType::BFloat16, DType::Float16})
      for (Layout layout : {Layout::Contiguous, Layout::Transposed}) check_forward(spec, ci, spec.cases[ci], values, dt, layout);
  }
}

TEST_P(OpVjp, Gradcheck) {
  const OpSpec& spec = GetParam();
  std::mt19937 rng(seed_of(spec.name) + 1);
  int checked = 0;
  for (size_t ci = 0; ci < spec.cases.size(); ++ci) {
    const Case& c = spec.cases[ci];
    const std::vector<RefArg> values = draw_inputs(spec, c, rng);
    if (!small(spec, values, c.p)) continue;
    for (Layout layout : {Layout::Contiguous, Layout::Transposed}) {
      const std::string what = describe(spec, ci, c, layout_name(layout));
      TensorList inputs = build(spec, values, DType::Float64, layout);
      for (size_t i = 0; i < inputs.size(); ++i)
        if (is_float(spec.args[i])) inputs[i].requires_grad_(true);
      const Params p = c.p;
      const OpFn fn = spec.fn;
      try {
        // Recording must not change the value.
        const Tensor out = fn(inputs, p);
        EXPECT_TRUE(out.requires_grad()) << what << ": output of a differentiable op does not require grad";
        const std::string diff = compare(to_ref(out), spec.ref(read_all(inputs), p), tolerance(spec, false));
        EXPECT_TRUE(diff.empty()) << what << " (inputs require grad): " << diff;
        const tg::GradcheckResult r = tg::gradcheck([&](const TensorList& xs) { return fn(xs, p); }, inputs);
        EXPECT_TRUE(r.ok) << what << ": " << r.message;
      } catch (const std::exception& e) {
        ADD_FAILURE() << what << ": threw " << e.what();
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 0) << "no case of " << spec.name << " is small enough for gradcheck";
}

TEST_P(OpGradGrad, Gradgradcheck) {
  const OpSpec& spec = GetParam();
  std::mt19937 rng(seed_of(spec.name) + 2);
  int checked = 0;
  for (size_t ci = 0; ci < spec.cases.size() && checked < 3; ++ci) {
    const Case& c = spec.cases[ci];
    const std::vector<RefArg> values = draw_inputs(spec, c, rng);
    if (!small(spec, values, c.p)) continue;
    const std::string what = describe(spec, ci, c, "float64");
    TensorList inputs = build(spec, values, DType::Float64, Layout::Contiguous);
    for (size_t i = 0; i < inputs.size(); ++i)
      if (is_float(spec.args[i])) inputs[i].requires_grad_(true);
    const Params p = c.p;
    const OpFn fn = spec.fn;
    try {
      const tg::GradcheckResult r = tg::gradgradcheck([&](const TensorList& xs) { return fn(xs, p); }, inputs);
      EXPECT_TRUE(r.ok) << what << ": " << r.message;
    } catch (const std::exception& e) {
      ADD_FAILURE() << what << ": threw " << e.what();
    }
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

// Forward mode: tg::jvp's J v against central differences of fn along v, and the transpose identity
// <J v, u> = <v, J^T u> against the reverse engine, for random u and v (float64, two layouts). For ops with
// second order, the Hessian-vector product of x -> <u, fn(x)> forward-over-reverse (tangents pushed through the
// backward pass) agrees with reverse-over-reverse.
TEST_P(OpJvp, MatchesFiniteDifferencesAndVjp) {
  const OpSpec& spec = GetParam();
  std::mt19937 rng(seed_of(spec.name) + 4);
  int checked = 0, second_checked = 0;
  for (size_t ci = 0; ci < spec.cases.size(); ++ci) {
    const Case& c = spec.cases[ci];
    const std::vector<RefArg> values = draw_inputs(spec, c, rng);
    if (!small(spec, values, c.p)) continue;
    for (Layout layout : {Layout::Contiguous, Layout::Transposed}) {
      const std::string what = describe(spec, ci, c, layout_name(layout));
      const TensorList inputs = build(spec, values, DType::Float64, layout);
      const tg::DifferentiableFn f = of_floats(spec, inputs, c.p);
      TensorList xs, vs;
      for (size_t i : float_positions(spec)) {
        xs.push_back(inputs[i]);
        vs.push_back(make_tensor(inputs[i].shape(), uniform(rng, inputs[i].numel(), -1, 1), DType::Float64));
      }
      try {
        const auto [value, jv] = tg::jvp(f, xs, vs);
        const Tensor plain = f(xs);
        EXPECT_TRUE(compare(to_ref(value), to_ref(plain), {0, 0}).empty()) << what << ": jvp changed the value";
        EXPECT_FALSE(value.requires_grad()) << what << ": jvp kept a graph";
        ASSERT_EQ(jv.shape(), plain.shape()) << what;

        const double eps = 1e-6;
        TensorList plus, minus;
        for (size_t k = 0; k < xs.size(); ++k) {
          plus.push_back(xs[k] + vs[k] * eps);
          minus.push_back(xs[k] - vs[k] * eps);
        }
        int64_t input_numel = 0;
        for (const auto& x : xs) input_numel += x.numel();
        // With no input elements the Jacobian has no columns: J v = 0, even where the value is 0 / 0.
        const Tensor fd = input_numel == 0 ? tg::zeros_like(plain) : (f(plus) - f(minus)) / (2 * eps);
        const std::string diff = compare(to_ref(jv), to_ref(fd), {1e-5, 1e-6});
        EXPECT_TRUE(diff.empty()) << what << ": J v vs central differences: " << diff;

        TensorList leaves;
        for (const auto& x : xs) leaves.push_back(x.detach().requires_grad_(true));
        const Tensor out = f(leaves);
        const Tensor u = make_tensor(out.shape(), uniform(rng, out.numel(), -1, 1), DType::Float64);
        if (out.requires_grad()) {
          tg::GradOptions options;
          options.allow_unused = true;
          const TensorList vjps = tg::grad({out}, leaves, {u}, options);
          double rhs = 0;
          for (size_t k = 0; k < vjps.size(); ++k)
            if (vjps[k].defined()) rhs += dot(vs[k], vjps[k]);
          const double lhs = dot(jv, u);
          EXPECT_NEAR(lhs, rhs, 1e-10 * (1 + std::abs(rhs))) << what << ": <J v, u> != <v, J^T u>";
        }

        if (spec.second_order && second_checked < 2 && out.requires_grad()) {
          ++second_checked;
          // Forward over reverse: leaves carrying v, the gradient's tangent is H v.
          TensorList duals;
          for (size_t k = 0; k < xs.size(); ++k) {
            Tensor d = xs[k].detach();
            d.set_tangent(vs[k]);
            duals.push_back(d.requires_grad_(true));
          }
          tg::GradOptions options;
          options.allow_unused = true;
          const TensorList g_dual = tg::grad({tg::sum(f(duals) * u)}, duals, {}, options);
          options.create_graph = true;
          const TensorList g = tg::grad({tg::sum(f(leaves) * u)}, leaves, {}, options);
          Tensor gv;
          for (size_t k = 0; k < g.size(); ++k)
            if (g[k].defined()) gv = gv.defined() ? gv + tg::sum(g[k] * vs[k]) : tg::sum(g[k] * vs[k]);
          TensorList hv(leaves.size());
          if (gv.defined() && gv.requires_grad()) {
            tg::GradOptions second;
            second.allow_unused = true;
            hv = tg::grad({gv}, leaves, {}, second);
          }
          for (size_t k = 0; k < leaves.size(); ++k) {
            const Tensor fwd = g_dual[k].defined() && g_dual[k].tangent().defined() ? g_dual[k].tangent()
                                                                                      : tg::zeros_like(xs[k]);
            const Tensor rev = hv[k].defined() ? hv[k] : tg::zeros_like(xs[k]);
            const std::string hdiff = compare(to_ref(fwd), to_ref(rev), {1e-9, 1e-10});
            EXPECT_TRUE(hdiff.empty()) << what << ": input " << k << " H v forward-over-reverse vs reverse-over-reverse: "
                                       << hdiff;
          }
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << what << ": threw " << e.what();
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 0) << "no case of " << spec.name << " is small enough for the JVP checks";
}

// Mixed dtypes: the output dtype follows the promotion lattice and the values still match the reference.
TEST_P(OpDTypes, PromotesAndMatches) {
  const OpSpec& spec = GetParam();
  const DType float_default = tg::default_float_dtype();
  std::vector<std::vector<DType>> combos;
  if (spec.promo == Promo::Unary || spec.promo == Promo::ScalarOp) {
    combos = {{DType::Int64}};
  } else {
    combos = {{DType::Float32, DType::Float64}, {DType::Float64, DType::Float32}, {DType::Int64, DType::Float32},
              {DType::Float64, DType::Int64},   {DType::Int64, DType::Int64},     {DType::BFloat16, DType::Float16},
              {DType::Int64, DType::BFloat16},  {DType::Float16, DType::Float32}};
  }
  std::mt19937 rng(seed_of(spec.name) + 3);
  int checked = 0;
  for (size_t ci = 0; ci < spec.cases.size() && ci < 3; ++ci) {
    const Case& c = spec.cases[ci];
    if (spec.promo == Promo::ScalarOp && c.p.variant == 1) continue;  // keep the scalar a C++ double
    std::vector<RefArg> values = draw_inputs(spec, c, rng);
    for (const auto& dts : combos) {
      TensorList inputs;
      bool any_float32 = false;
      for (size_t i = 0; i < values.size(); ++i) {
        RefArg v = values[i];
        // Small positive integers are in every op's domain (log, sqrt, pow, division).
        if (dts[i] == DType::Int64) v.v = integers(rng, count(v.shape), 1, 4);
        any_float32 |= dts[i] == DType::Float32 || tg::is_half(dts[i]);
        inputs.push_back(make_tensor(v, dts[i]));
      }
      DType expected;
      switch (spec.promo) {
        case Promo::Unary: expected = spec.int_ok ? DType::Int64 : float_default; break;
        case Promo::ScalarOp: expected = float_default; break;
        case Promo::Comparison: expected = DType::Bool; break;
        case Promo::TrueDiv:
          expected = promoted(dts[0], dts[1]);
          if (expected == DType::Int64) expected = float_default;
          break;
        default: expected = promoted(dts[0], dts[1]); break;
      }
      any_float32 |= expected == DType::Float32;
      std::string what = describe(spec, ci, c, "dtypes");
      for (DType d : dts) what += std::string(" ") + tg::dtype_name(d);
      try {
        const Tensor out = spec.fn(inputs, c.p);
        EXPECT_EQ(out.dtype(), expected) << what;
        const RefArg want = spec.ref(read_all(inputs), c.p);
        const Tolerance tol =
            tg::is_half(expected) ? half_tolerance(spec, expected, want) : tolerance(spec, any_float32);
        const std::string diff = compare(to_ref(out), want, tol);
        EXPECT_TRUE(diff.empty()) << what << ": " << diff;
      } catch (const std::exception& e) {
        ADD_FAILURE() << what << ": threw " << e.what();
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
}

const auto op_name = [](const ::testing::TestParamInfo<OpSpec>& p) { return p.param.name; };
INSTANTIATE_TEST_SUITE_P(Ops, OpForward, ::testing::ValuesIn(op_table()), op_name);
INSTANTIATE_TEST_SUITE_P(Ops, OpHalf, ::testing::ValuesIn(ops_where([](const OpSpec& s) {
                           for (Dom d : s.args)
                             if (is_float(d)) return true;
                           return false;
                         })),
                         op_name);
INSTANTIATE_TEST_SUITE_P(Ops, OpVjp, ::testing::ValuesIn(ops_where([](const OpSpec& s) { return s.vjp; })), op_name);
INSTANTIATE_TEST_SUITE_P(Ops, OpGradGrad,
                         ::testing::ValuesIn(ops_where([](const OpSpec& s) { return s.second_order; })), op_name);
INSTANTIATE_TEST_SUITE_P(Ops, OpJvp, ::testing::ValuesIn(ops_where([](const OpSpec& s) { return s.vjp; })), op_name);
INSTANTIATE_TEST_SUITE_P(Ops, OpDTypes,
                         ::testing::ValuesIn(ops_where([](const OpSpec& s) { return s.promo != Promo::None; })),
                         op_name);

TEST(OpTableMeta, CoversEnoughDistinctOps) {
  std::set<std::string> names;
  int differentiable = 0, second_order = 0;
  for (const auto& s : op_table()) {
    EXPECT_TRUE(names.insert(s.name).second) << "duplicate op " << s.name;
    EXPECT_GE(s.cases.size(), 3u) << s.name << " needs several shape cases";
    differentiable += s.vjp;
    second_order += s.second_order;
  }
  EXPECT_GE(names.size(), 123u);
  EXPECT_GE(differentiable, 110);
  EXPECT_GE(second_order, 110);
}

// The oracle's layouts really are non-contiguous views holding the requested values.
TEST(OpTableMeta, LayoutsHoldTheirValues) {
  const std::vector<double> v = {1, 2, 3, 4, 5, 6};
  for (Layout layout : {Layout::Contiguous, Layout::Transposed, Layout::Strided}) {
    const Tensor t = make_tensor({2, 3}, v, DType::Float64, layout);
    EXPECT_EQ(to_doubles(t), v) << layout_name(layout);
    EXPECT_EQ(t.is_contiguous(), layout == Layout::Contiguous) << layout_name(layout);
  }
  const Tensor e = make_tensor({2, 3}, v, DType::Float32, Layout::Expanded);
  EXPECT_EQ(to_doubles(e), (std::vector<double>{1, 2, 3, 1, 2, 3}));
  EXPECT_EQ(e.stride(0), 0);
}

// A C++ number keeps its category: an integral scalar leaves an int64 tensor int64, a floating one makes
// it the default float dtype, and a float tensor keeps its own precision.
TEST(OpPromotion, ScalarCategories) {
  const Tensor i = make_tensor({3}, {1, 2, 3}, DType::Int64);
  const Tensor f = make_tensor({3}, {1, 2, 3}, DType::Float32);
  const Tensor d = make_tensor({3}, {1, 2, 3}, DType::Float64);
  const Tensor i_plus_2 = i + 2;
  EXPECT_EQ(i_plus_2.dtype(), DType::Int64);
  EXPECT_EQ(to_doubles(i_plus_2), (std::vector<double>{3, 4, 5}));
  const Tensor i_times_half = i * 0.5;
  EXPECT_EQ(i_times_half.dtype(), tg::default_float_dtype());
  EXPECT_EQ(to_doubles(i_times_half), (std::vector<double>{0.5, 1, 1.5}));
  EXPECT_EQ((f * 2).dtype(), DType::Float32);
  EXPECT_EQ((f * 2.5).dtype(), DType::Float32);
  EXPECT_EQ((d - 1).dtype(), DType::Float64);
  EXPECT_EQ((2 - i).dtype(), DType::Int64);
  EXPECT_EQ(to_doubles(2 - i), (std::vector<double>{1, 0, -1}));
}

// Comparisons with a C++ number: the number takes the tensor's category, so 1.5 against int64 compares as
// a float and does not truncate to 1.
TEST(OpPromotion, ScalarComparisons) {
  const Tensor i = make_tensor({4}, {0, 1, 2, 3}, DType::Int64);
  const Tensor f = make_tensor({4}, {-1, 0, 0.5, 2}, DType::Float32);
  EXPECT_EQ((f > 0).dtype(), DType::Bool);
  EXPECT_EQ(to_doubles(f > 0), (std::vector<double>{0, 0, 1, 1}));
  EXPECT_EQ(to_doubles(f >= 0), (std::vector<double>{0, 1, 1, 1}));
  EXPECT_EQ(to_doubles(f < 0.5), (std::vector<double>{1, 1, 0, 0}));
  EXPECT_EQ(to_doubles(f <= 0.5), (std::vector<double>{1, 1, 1, 0}));
  EXPECT_EQ(to_doubles(f == 2), (std::vector<double>{0, 0, 0, 1}));
  EXPECT_EQ(to_doubles(f != 2), (std::vector<double>{1, 1, 1, 0}));
  EXPECT_EQ(to_doubles(i > 1.5), (std::vector<double>{0, 0, 1, 1}));
  EXPECT_EQ(to_doubles(i == 1.5), (std::vector<double>{0, 0, 0, 0}));
  EXPECT_EQ(to_doubles(tg::ge(i, 2)), (std::vector<double>{0, 0, 1, 1}));
}

// bool and int64 sums count in int64; comparisons give bool; argmax gives int64 whatever the input.
TEST(OpPromotion, IntegerReductions) {
  const Tensor b = make_tensor({2, 3}, {1, 0, 1, 1, 1, 0}, DType::Bool);
  const Tensor s = tg::sum(b);
  EXPECT_EQ(s.dtype(), DType::Int64);
  EXPECT_EQ(to_doubles(s), (std::vector<double>{4}));
  const Tensor i = make_tensor({2, 3}, {4, -2, 7, 1, 9, 3}, DType::Int64);
  const Tensor rows = tg::sum(i, {1});
  EXPECT_EQ(rows.dtype(), DType::Int64);
  EXPECT_EQ(to_doubles(rows), (std::vector<double>{9, 13}));
  const Tensor m = tg::max(i, {0});
  EXPECT_EQ(m.dtype(), DType::Int64);
  EXPECT_EQ(to_doubles(m), (std::vector<double>{4, 9, 7}));
  const Tensor am = tg::argmax(i, 1);
  EXPECT_EQ(am.dtype(), DType::Int64);
  EXPECT_EQ(to_doubles(am), (std::vector<double>{2, 1}));
}

TEST(OpPromotion, DefaultFloatDtypeGovernsIntegerResults) {
  struct Restore {
    DType saved = tg::default_float_dtype();
    ~Restore() { tg::set_default_float_dtype(saved); }
  } restore;
  const Tensor a = make_tensor({2}, {1, 3}, DType::Int64);
  const Tensor b = make_tensor({2}, {2, 4}, DType::Int64);
  tg::set_default_float_dtype(DType::Float64);
  const Tensor q = tg::div(a, b);
  EXPECT_EQ(q.dtype(), DType::Float64);
  EXPECT_EQ(to_doubles(q), (std::vector<double>{0.5, 0.75}));
  EXPECT_EQ(tg::exp(a).dtype(), DType::Float64);
  EXPECT_EQ((a * 0.5).dtype(), DType::Float64);
  tg::set_default_float_dtype(DType::Float32);
  EXPECT_EQ(tg::div(a, b).dtype(), DType::Float32);
  EXPECT_EQ(tg::sqrt(a).dtype(), DType::Float32);
}

}  // namespace
}  // namespace tgtest
