#pragma once
// The op-spec table: one entry per op, driving the forward, VJP, second-order and dtype tests in
// op_table_test.cpp. References are independent scalar math on doubles (support/oracle.h), never the
// code under test.
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "support/oracle.h"

namespace tgtest {

// How an input's values are drawn. Float domains keep finite differences valid (away from kinks, poles
// and ties); Index draws int64 in [0, OpSpec::index_high(case)); Bool draws bool.
enum class Dom {
  Normal,        // [-2, 2]
  Positive,      // [0.5, 2.5]: log, sqrt, rsqrt, pow's base
  NonZero,       // |x| in [0.2, 2]: abs, relu, sign, reciprocal, denominators
  AboveMinusOne, // [-0.5, 2]: log1p
  Distinct,      // pairwise >= 0.1 apart across every Distinct input of a case: max, min, maximum, minimum
  Discrete,      // from {-1, -0.5, 0, 0.5, 1}: comparisons see ties
  Index,
  Bool,
};

// Op arguments besides the tensors; each spec documents which fields it reads.
struct Params {
  std::vector<int64_t> dims;  // reduction axes / permutation / pads
  Shape shape;                // target shape (reshape, expand, sum_to)
  bool keepdim = false;
  int64_t a = 0, b = 0, c = 0, d = 0;  // dim, start, end, step, correction, index, num_classes...
  double s = 0;                        // scalar operand, pad value
  int variant = 0;                     // which overload or form (function / operator / reversed)
};

struct Case {
  std::vector<Shape> shapes;  // one per tensor input
  Params p = {};
};

enum class OutKind { SameAsInput, Bool, Int64 };

// Mixed-dtype behaviour checked by the DTypes test.
enum class Promo {
  None,
  Unary,       // int64 input -> int64 when int_ok, else default float dtype
  Binary,      // promote_types of the two inputs
  TrueDiv,     // as Binary, but int64 / int64 -> default float dtype
  Comparison,  // any mix -> bool, values compared after promotion
  ScalarOp,    // tensor op C++ number: float32 tensor stays float32; int64 tensor with a double -> default float
};

// What every table file writes its rows with: a row's inputs (Refs) and a case's input shapes (SL).
using Refs = std::vector<RefArg>;
using SL = std::vector<Shape>;
inline size_t at(int64_t i) { return static_cast<size_t>(i); }

using OpFn = std::function<Tensor(const tg::TensorList&, const Params&)>;
using RefFn = std::function<RefArg(const std::vector<RefArg>&, const Params&)>;

struct OpSpec {
  std::string name;  // also the test name
  std::vector<Dom> args;
  std::vector<Case> cases;
  OpFn fn;
  RefFn ref;
  OutKind out = OutKind::SameAsInput;
  bool vjp = true;           // differentiable: gradcheck in float64
  bool second_order = true;  // gradgradcheck too
  Promo promo = Promo::None;
  bool int_ok = false;  // for Promo::Unary: defined on int64 without conversion
  // For Dom::Index inputs: values are drawn in [0, index_high(case)).
  std::function<int64_t(const Case&)> index_high;
  double f32_rtol = 2e-5;  // forward tolerance for float32 inputs (float64 uses 1e-10)
  double half_ulps = 4;    // bfloat16 / float16: unit roundoffs of the format allowed (OpHalf)
  bool out_contiguous = false;  // the output must be contiguous whatever the input layout
};

const std::vector<OpSpec>& op_table();

// One row from its parts; every contributor below builds its rows with it.
OpSpec make_spec(std::string name, std::vector<Dom> args, std::vector<Case> cases, OpFn fn, RefFn ref);

// The table is assembled from one contributor per op family file, each appending its specs:
void add_conv_ops(std::vector<OpSpec>& table);  // op_table_conv.cpp: unfold/fold, conv, pooling
void add_nn_ops(std::vector<OpSpec>& table);    // op_table_nn.cpp: losses, normalisation, dropout, embedding
void add_sequence_ops(std::vector<OpSpec>& table);  // op_table_sequence.cpp: activations, masking, split, cumsum, norms
void PrintTo(const OpSpec& spec, std::ostream* os);

// Draws the logical values of every input of `c` (before any dtype conversion or layout).
std::vector<RefArg> draw_inputs(const OpSpec& spec, const Case& c, std::mt19937& rng);

}  // namespace tgtest
