// einsum over one or two operands (see einsum.h): the equation is parsed into label roles, then the operands
// are summed over labels only they carry, permuted to [batch, kept, contracted] / [batch, contracted, kept],
// multiplied as one batched matmul and permuted to the output's order.
#include <tensorgrad/ops/einsum.h>

#include <algorithm>
#include <array>
#include <map>

#include <tensorgrad/ops/linalg.h>
#include <tensorgrad/ops/reduce.h>
#include <tensorgrad/ops/view.h>

#include "profiling.h"

namespace tg {

namespace {

constexpr const char* kOp = "tg::einsum";

struct Equation {
  std::vector<std::string> inputs;
  std::string output;
};

Equation parse(const std::string& text, size_t operands) {
  std::string eq;
  for (char c : text)
    if (c != ' ') eq.push_back(c);
  TG_CHECK(eq.find("...") == std::string::npos, kOp, ": \"", text, "\": the ellipsis (...) is not supported");
  Equation e;
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  size_t start = 0;
  for (size_t comma; (comma = lhs.find(',', start)) != std::string::npos; start = comma + 1)
    e.inputs.push_back(lhs.substr(start, comma - start));
  e.inputs.push_back(lhs.substr(start));
  TG_CHECK(e.inputs.size() == operands, kOp, ": \"", text, "\" names ", e.inputs.size(), " operand",
           e.inputs.size() == 1 ? "" : "s", " but ", operands, " were given");
  TG_CHECK(operands == 1 || operands == 2, kOp, ": only one or two operands are supported, got ", operands);
  std::map<char, int> uses;
  for (const std::string& in : e.inputs)
    for (char c : in) {
      TG_CHECK(std::isalpha(static_cast<unsigned char>(c)), kOp, ": \"", text, "\": '", c, "' is not a label (letters only)");
      TG_CHECK(std::count(in.begin(), in.end(), c) == 1, kOp, ": \"", text, "\": label '", c, "' repeats in operand \"",
               in, "\" (diagonals are not supported)");
      ++uses[c];
    }
  if (arrow == std::string::npos) {
    for (const auto& [c, n] : uses)
      if (n == 1) e.output.push_back(c);  // std::map: alphabetical
  } else {
    e.output = eq.substr(arrow + 2);
    for (char c : e.output) {
      TG_CHECK(uses.count(c), kOp, ": \"", text, "\": output label '", c, "' appears in no operand");
      TG_CHECK(std::count(e.output.begin(), e.output.end(), c) == 1, kOp, ": \"", text, "\": output label '", c,
               "' repeats");
    }
  }
  return e;
}

bool has(const std::string& s, char c) { return s.find(c) != std::string::npos; }

// Sums x over the labels of `labels` not in `keep`; returns the remaining labels.
Tensor sum_out(const Tensor& x, std::string& labels, const std::string& keep) {
  Dims dims;
  std::string rest;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (has(keep, labels[i])) rest.push_back(labels[i]);
    else dims.push_back(static_cast<int64_t>(i));
  }
  labels = rest;
  return dims.empty() ? x : sum(x, dims);
}

// x permuted so its labels read `order`.
Tensor arrange(const Tensor& x, const std::string& labels, const std::string& order) {
  std::vector<int64_t> perm;
  for (char c : order) perm.push_back(static_cast<int64_t>(labels.find(c)));
  return permute(x, perm);
}

}  // namespace

Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands) {
  TG_PROFILE_OP("einsum", operands);
  const Equation e = parse(equation, operands.size());
  std::map<char, int64_t> size;
  for (size_t k = 0; k < operands.size(); ++k) {
    const Tensor& x = operands[k];
    TG_CHECK(x.defined(), kOp, ": operand ", k, " is undefined");
    TG_CHECK(is_floating(x.dtype()), kOp, ": operand ", k, " must be floating, got ", dtype_name(x.dtype()));
    TG_CHECK(static_cast<int64_t>(e.inputs[k].size()) == x.dim(), kOp, ": \"", equation, "\": operand ", k, " has ",
             x.dim(), " dims (shape ", x.shape(), ") but ", e.inputs[k].size(), " labels \"", e.inputs[k], "\"");
    for (size_t i = 0; i < e.inputs[k].size(); ++i) {
      const char c = e.inputs[k][i];
      const auto [it, fresh] = size.emplace(c, x.size(static_cast<int64_t>(i)));
      TG_CHECK(fresh || it->second == x.size(static_cast<int64_t>(i)), kOp, ": \"", equation, "\": label '", c,
               "' has size ", it->second, " and ", x.size(static_cast<int64_t>(i)));
    }
  }
  auto sizes_of = [&](const std::string& labels) {
    Shape s;
    for (char c : labels) s.push_back(size.at(c));
    return s;
  };
  if (operands.size() == 1) {
    std::string labels = e.inputs[0];
    const Tensor x = sum_out(operands[0], labels, e.output);
    return arrange(x, labels, e.output);
  }
  // Two operands: each first sums out what only it carries and the output does not keep.
  std::string la = e.inputs[0], lb = e.inputs[1];
  Tensor a = sum_out(operands[0], la, e.output + lb);
  Tensor b = sum_out(operands[1], lb, e.output + la);
  std::string batch, left, right, contracted;
  for (char c : la) {
    if (has(lb, c)) (has(e.output, c) ? batch : contracted).push_back(c);
    else left.push_back(c);
  }
  for (char c : lb)
    if (!has(la, c)) right.push_back(c);
  auto product = [&](const Shape& s) {
    int64_t p = 1;
    for (int64_t v : s) p *= v;
    return p;
  };
  const int64_t nb = product(sizes_of(batch)), m = product(sizes_of(left)), n = product(sizes_of(right));
  const int64_t k = product(sizes_of(contracted));
  const Tensor a3 = reshape(arrange(a, la, batch + left + contracted), {nb, m, k});
  const Tensor b3 = reshape(arrange(b, lb, batch + contracted + right), {nb, k, n});
  const std::string result = batch + left + right;
  const Tensor c = reshape(matmul(a3, b3), sizes_of(result));
  return arrange(c, result, e.output);
}

}  // namespace tg
