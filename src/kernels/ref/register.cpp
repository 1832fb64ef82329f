// Every reference kernel, registered for the CPU: the whole op set runs on these alone (the oracle), and
// cpu/register.cpp then replaces the ones that have a faster CPU kernel.
#include "ref_kernels.h"

#include "../half_staging.h"

namespace tg::kernels::ref {

void register_kernels(KernelTables& t) {
  register_copy(t);
  register_unary(t);
  register_binary(t);
  register_reduce(t);
  register_softmax(t);
  register_matmul(t);
  register_index(t);
  register_window(t);
  register_conv_gemm(t);
  register_creation(t);
  register_optimizer(t);
  register_ctc(t);
  register_sort(t);
  register_depthwise(t);
  register_attention(t);
  register_layer_norm(t);
  // bfloat16 and float16: the float32 reference kernels on float32 copies, rounded back.
  register_half_staging(t, HalfStaging::Reference);
}

}  // namespace tg::kernels::ref
