#pragma once
// Einstein summation over one or two operands (torch.einsum): "ij,jk->ik", "bhld,bhsd->bhls", "ij->ji", "i,j->ij".
// Labels are letters; the output is given after "->" or, without it, every label used once, in alphabetical
// order (NumPy's rule). Built from sums, permutes, reshapes and one batched matmul, so every derivative comes
// with them. Not supported, each a clear error: three or more operands, "..." (ellipsis), a label repeated in
// one operand (diagonals), and broadcasting a size-1 dim against a larger one.
#include <string>
#include <vector>

#include <tensorgrad/core/tensor.h>

namespace tg {

Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands);

}  // namespace tg
