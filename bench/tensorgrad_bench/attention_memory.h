#pragma once
// tensorgrad-bench attention-memory: the allocator's peak extra bytes over one forward and backward of
// scaled_dot_product_attention (the fused kernels) against the composed softmax(q k^T / sqrt(E)) v, on q, k, v
// [2, 4, L, 64] float32 (issue 15's attention benchmark shapes).
#include <cstdint>
#include <vector>

namespace tg::bench {

// Prints a markdown table on stdout; returns a process exit code.
int run_attention_memory(const std::vector<int64_t>& lengths);

}  // namespace tg::bench
