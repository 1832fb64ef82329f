#!/usr/bin/env python3
"""Writes tests/reference/torch_reference.safetensors: inputs, weights, outputs and gradients computed by
PyTorch 1.13 and torchaudio 0.13 (Debian's python3-torch, python3-torchaudio) in float64, for tests/reference/torch_equivalence_test.cpp.

    apt-get install python3-torch python3-torchaudio && /usr/bin/python3 tests/reference/make_torch_reference.py

Deterministic (fixed seeds, float64, CPU). The safetensors file is written by hand here (8-byte little-endian
header length, JSON header, raw little-endian data), so nothing beyond torch is needed.

Contents, by key prefix:
  ctc.*         torch.nn.functional.ctc_loss on a padded batch with an empty target: per-sample losses, the
                mean and sum reductions, and d(mean)/d(logits) through log_softmax. (PyTorch's ctc_loss backward
                returns exp(log_probs) - posterior, the gradient with respect to the logits, as its gradient with
                respect to log_probs; tensorgrad returns the true -posterior. The two agree once propagated
                through log_softmax, which is what is compared.)
  mha.*         torch.nn.MultiheadAttention (E 8, 2 heads, L 5, S 6, N 3, key padding mask): state dict, inputs,
                output, head-averaged weights, and the gradients of sum(output * probe).
  tel_post.* / tel_pre.*  torch.nn.TransformerEncoderLayer (d_model 8, 2 heads, feed-forward 16, dropout 0,
                post- and pre-norm, train mode so the fused inference path is not taken): state dict, input,
                key padding mask, output, gradients of sum(output * probe).
  conformer.*   torchaudio 0.13's ConformerLayer (d 8, ffn 16, 2 heads, kernel 3, dropout 0, train mode), with
                its parameter names mapped to tensorgrad's: output, gradients, BatchNorm running stats after.
"""
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from safetensors_writer import write_safetensors  # noqa: E402

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
out = {}


def put(name, t):
    out[name] = t.detach().clone().contiguous()  # a copy: buffers change in place later (BatchNorm)


# ---- CTC
T, N, C, S = 12, 4, 6, 5
logits = torch.randn(T, N, C).requires_grad_(True)
log_probs = logits.log_softmax(2)
targets = torch.randint(1, C, (N, S), dtype=torch.int64)
input_lengths = torch.tensor([12, 10, 12, 7], dtype=torch.int64)
target_lengths = torch.tensor([5, 3, 0, 4], dtype=torch.int64)
none = torch.nn.functional.ctc_loss(log_probs, targets, input_lengths, target_lengths, reduction="none")
mean = torch.nn.functional.ctc_loss(log_probs, targets, input_lengths, target_lengths, reduction="mean")
total = torch.nn.functional.ctc_loss(log_probs, targets, input_lengths, target_lengths, reduction="sum")
(grad,) = torch.autograd.grad(mean, logits)
for k, v in dict(logits=logits, log_probs=log_probs, targets=targets, input_lengths=input_lengths, target_lengths=target_lengths,
                 loss_none=none, loss_mean=mean, loss_sum=total, grad_mean=grad).items():
    put("ctc." + k, v)

# ---- MultiheadAttention
E, H, L, S, N = 8, 2, 5, 6, 3
mha = torch.nn.MultiheadAttention(E, H)
query, key, value = torch.randn(L, N, E), torch.randn(S, N, E), torch.randn(S, N, E)
key_padding_mask = torch.zeros(N, S, dtype=torch.bool)
key_padding_mask[1, 4:] = True
key_padding_mask[2, 1] = True
for k, v in mha.state_dict().items():
    put("mha.state." + k, v)
for t in (query, key, value):
    t.requires_grad_(True)
output, weights = mha(query, key, value, key_padding_mask=key_padding_mask)
probe = torch.randn(L, N, E)
(output * probe).sum().backward()
for k, v in dict(query=query, key=key, value=value, key_padding_mask=key_padding_mask, output=output,
                 weights=weights, probe=probe, grad_query=query.grad, grad_key=key.grad, grad_value=value.grad).items():
    put("mha." + k, v)
for k, p in mha.named_parameters():
    put("mha.grad." + k, p.grad)

# ---- TransformerEncoderLayer, post- and pre-norm
for prefix, norm_first in (("tel_post", False), ("tel_pre", True)):
    layer = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, norm_first=norm_first)
    layer.train()
    src = torch.randn(5, 3, 8, requires_grad=True)
    mask = torch.zeros(3, 5, dtype=torch.bool)
    mask[0, 3:] = True
    for k, v in layer.state_dict().items():
        put(prefix + ".state." + k, v)
    y = layer(src, src_key_padding_mask=mask)
    probe = torch.randn(5, 3, 8)
    (y * probe).sum().backward()
    for k, v in dict(src=src, key_padding_mask=mask, output=y, probe=probe, grad_src=src.grad).items():
        put(prefix + "." + k, v)
    for k, p in layer.named_parameters():
        put(prefix + ".grad." + k, p.grad)

# ---- torchaudio's ConformerLayer (absolute positions), train mode (BatchNorm on batch statistics), no padding
# mask (torchaudio lets padded frames into the depthwise convolution; tensorgrad zeroes them, so with padding the
# two differ by design near the padding). Names mapped to tensorgrad's: torchaudio numbers its Sequential
# children, tensorgrad names them.
try:
    import torchaudio
except ImportError:  # python3-torchaudio absent: the conformer.* entries are left out
    torchaudio = None
if torchaudio is not None:
    RENAME = {"ffn1.sequential.0": "ffn1.layer_norm", "ffn1.sequential.1": "ffn1.linear1",
              "ffn1.sequential.4": "ffn1.linear2", "ffn2.sequential.0": "ffn2.layer_norm",
              "ffn2.sequential.1": "ffn2.linear1", "ffn2.sequential.4": "ffn2.linear2",
              "conv_module.sequential.0": "conv_module.pointwise_conv1",
              "conv_module.sequential.2": "conv_module.depthwise_conv",
              "conv_module.sequential.3": "conv_module.batch_norm",
              "conv_module.sequential.5": "conv_module.pointwise_conv2"}

    def ours(name):
        for theirs, mine in RENAME.items():
            if name.startswith(theirs + "."):
                return mine + name[len(theirs):]
        return name

    layer = torchaudio.models.conformer.ConformerLayer(8, 16, 2, 3, dropout=0.0)
    layer.train()
    for k, v in layer.state_dict().items():
        put("conformer.state." + ours(k), v)
    x = torch.randn(7, 3, 8, requires_grad=True)  # [T, N, D], torchaudio's layout
    y = layer(x, None)
    probe = torch.randn(7, 3, 8)
    (y * probe).sum().backward()
    for k, v in dict(input=x, output=y, probe=probe, grad_input=x.grad).items():
        put("conformer." + k, v)
    for k, p in layer.named_parameters():
        put("conformer.grad." + ours(k), p.grad)
    for k, v in layer.state_dict().items():
        if "running" in k:
            put("conformer.after." + ours(k), v)

# ---- write the safetensors file
path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("torch_reference.safetensors")
write_safetensors(path, out, {"torch": torch.__version__, "script": "make_torch_reference.py"})
print(f"wrote {path}: {len(out)} tensors, {path.stat().st_size} bytes, torch {torch.__version__}")
