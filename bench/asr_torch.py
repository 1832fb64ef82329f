"""PyTorch baseline for tg_asr: the same Conformer-CTC, recipe and cached features in PyTorch 1.13.

Run with Debian's python3 (/usr/bin/python3), which sees python3-torch; it needs only torch and numpy (the
safetensors files are read by a reader of its own; torchaudio is not used: the features come from the caches).

Modes (one of):

  --time   one warm-up step, then --steps timed training steps (forward, CTC loss, zero_grad, backward,
           clip_grad_norm_ 5, AdamW step) on random features shaped as `tg_asr profile --time-steps K` makes
           them; prints the machine-readable line
               torch_step_ms median=... min=... threads=T batch=B frames=F params=P
           to set beside tg_asr profile's `tg_step_ms ...` line (the median is the sorted times' element
           [K // 2], as tg_asr takes it).

  --train  trains on <corpus>/train.jsonl.features.safetensors (the feature cache `tg_asr train` / `tg_asr eval`
           writes beside each manifest) with tg_asr train's recipe, for --steps optimizer steps or --epochs
           epochs, then decodes dev and test greedily and prints
               torch_asr steps=N dev_wer=... dev_cer=... test_wer=... test_cer=... seconds=... ...
           (error rates in percent, as tg_asr prints them; seconds: the training steps' wall time, feature
           loading and evaluation excluded).

  --eval-checkpoint CHECKPOINT --corpus DIR
           loads a `tg_asr train` checkpoint's weights into this model and decodes dev and test: the same
           loss / WER / CER as tensorgrad's (checked on a 40-epoch checkpoint of the default recipe with
           --subsampling-channels 64: dev loss 0.0985, WER 6.22%, CER 2.20%, to the digit its metrics.csv's last
           row, and test WER 6.75%, CER 2.35%, as `tg_asr eval` printed them).
  --print-params
           the parameter count and names (tensorgrad's state-dict names without the "model." prefix).

What is replicated (tools/asr/model.cpp, src/nn/conformer_encoder.cpp, conformer.cpp, attention.cpp,
rel_attention.cpp, tools/asr/train.cpp, dataset.cpp, src/audio/augment.cpp):
  * Conv2dSubsampling: [N, T, 80] -> [N, 1, T, 80]; frames past each length zeroed; conv1 (1 -> C, 3x3,
    stride 2, padding 1) -> ReLU -> zero frames past (L - 1) // 2 + 1; conv2 (C -> C, same) -> ReLU -> zero
    past the halved length again; [N, C, T', 20] -> [N, T', C * 20] -> Linear(C * 20, d_model).
  * Dropout, then `layers` Conformer blocks with a key padding mask (true past each subsampled length):
        h = x + 0.5 * FFN1(x)          FFN: LayerNorm, Linear(d, ffn), SiLU, Dropout, Linear(ffn, d), Dropout
        h = h + Dropout(MHA(LayerNorm(h)))   torch.nn.MultiheadAttention layout (in_proj [3d, d]), batch first,
                                             attention-weight dropout = --attention-dropout, no positional
                                             encoding at all (tg_asr's model keeps relative_positions = false)
        h = h + Conv(h)                 Conv: LayerNorm, pointwise Conv1d(d, 2d), GLU over channels, padded
                                        frames set to 0, depthwise Conv1d(d, k, padding (k - 1) / 2),
                                        BatchNorm1d, SiLU, pointwise Conv1d(d, d), Dropout
        h = h + 0.5 * FFN2(h)
        out = LayerNorm(h)
  * Linear(d_model, 29) head and log_softmax; blank 0, space 1, apostrophe 2, a-z 3..28.
  * CTC: F.ctc_loss on [T', N, 29], blank 0, reduction mean (each loss over its target length, then the batch
    mean), zero_infinity.
  * AdamW over every parameter (one group: biases, norms included) with betas (0.9, 0.98), eps 1e-9,
    decoupled weight decay --weight-decay; learning rate per step t (0-based):
        warmup = min(--warmup, max(total // 4, 1))
        t < warmup:  lr * (t + 1) / warmup
        else:        lr * (0.02 + 0.98 * 0.5 * (1 + cos(pi * min((t - warmup) / max(total - warmup, 1), 1))))
    with total = steps per epoch * epochs (or --steps); clip_grad_norm_(5) before each step; zero_grad
    sets the gradients to None (tensorgrad's default).
  * SpecAugment on each padded batch before the model, per utterance inside its real frames: 2 frequency bands
    of width U{0..15} at U{0..80 - w}, then 2 time stretches of width U{0..min(max(1, int(0.05 * frames)),
    frames)} at U{0..frames - w}, set to 0.
  * Batches: utterances stably sorted by frames, cut where (size + 1) * longest > --max-frames; the batch order
    shuffled every epoch from (seed, epoch). Dev / test: the same batches unshuffled, eval mode, greedy CTC
    decoding (argmax per frame, first index on ties, repeats merged, blanks dropped), corpus WER (whitespace
    words) and CER (characters, spaces included) as sums of edit distances over sums of reference lengths.

Where it differs from tensorgrad (random streams only): the initial weights, dropout masks, SpecAugment masks
and the per-epoch batch order are drawn from torch / numpy generators seeded from --seed, not from tensorgrad's
Philox generator and std::mt19937_64 + std::shuffle, so the same seed gives the same distributions, not the
same numbers. The initialisation's distributions are PyTorch's defaults, which tensorgrad's modules copy.
tg_asr train decodes dev after every epoch (inside its epoch time); here only with --dev-every-epoch, and never
inside seconds=. --steps N (not a tg_asr flag) runs N steps over as many shuffled epochs as it takes, the last
one partial, with the schedule's total = N; --epochs E is tg_asr's total = batches per epoch * E.

--relative-positions (not a tg_asr flag; off, as in tg_asr's model) swaps the blocks' attention for
tensorgrad's RelPositionMultiHeadAttention (Transformer-XL / NeMo rel_pos: linear_q/k/v/out, linear_pos without
bias, pos_bias_u/v zeros, sinusoidal encodings of relative positions T-1 .. -(T-1)), for the day the model
turns them on.
"""
import argparse
import json
import math
import os
import struct
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

BLANK = 0
CLASSES = 29  # blank, space, apostrophe, a-z
FEAT_IN = 80


# ---------------------------------------------------------------------------------------------------------------
# Vocabulary (tools/asr/vocabulary.cpp)

def encode(text):
    ids = []
    for c in text:
        if c == " ":
            ids.append(1)
        elif c == "'":
            ids.append(2)
        elif "a" <= c <= "z":
            ids.append(3 + ord(c) - ord("a"))
        else:
            raise ValueError(f"the character {c!r} of {text!r} is outside the alphabet (a-z, space, apostrophe)")
    return ids


def decode(ids):
    return "".join(" " if i == 1 else "'" if i == 2 else chr(ord("a") + i - 3) for i in ids)


# ---------------------------------------------------------------------------------------------------------------
# Model

def padding_mask(lengths, time_):
    """bool [N, T], true at t >= lengths[n] (tg::nn::padding_mask)."""
    return torch.arange(time_, device=lengths.device).unsqueeze(0) >= lengths.unsqueeze(1)


def halved(lengths):
    """(L - 1) // 2 + 1 with floor division (0 stays 0): a 3-wide window, stride 2, padding 1."""
    return torch.div(lengths - 1, 2, rounding_mode="floor") + 1


def zero_padded_frames(x, lengths):
    """x [N, C, T, F] with the frames t >= lengths[n] set to 0."""
    return x.masked_fill(padding_mask(lengths, x.size(2))[:, None, :, None], 0.0)


def conv_out(length):
    return 0 if length <= 0 else (length - 1) // 2 + 1


class Conv2dSubsampling(nn.Module):
    def __init__(self, feat_in, d_model, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, stride=2, padding=1)
        self.out = nn.Linear(channels * conv_out(conv_out(feat_in)), d_model)

    def forward(self, features, lengths):
        n = features.size(0)
        h = zero_padded_frames(features.unsqueeze(1), lengths)
        len1 = halved(lengths)
        h = zero_padded_frames(F.relu(self.conv1(h)), len1)
        len2 = halved(len1)
        h = zero_padded_frames(F.relu(self.conv2(h)), len2)  # [N, C, T', F']
        h = h.transpose(1, 2).reshape(n, h.size(2), -1)       # [N, T', C * F']
        return self.out(h), len2


class ConformerFeedForward(nn.Module):
    def __init__(self, d_model, ffn_dim, p):
        super().__init__()
        self.layer_norm = nn.LayerNorm(d_model)
        self.linear1 = nn.Linear(d_model, ffn_dim)
        self.dropout1 = nn.Dropout(p)
        self.linear2 = nn.Linear(ffn_dim, d_model)
        self.dropout2 = nn.Dropout(p)

    def forward(self, x):
        return self.dropout2(self.linear2(self.dropout1(F.silu(self.linear1(self.layer_norm(x))))))


class ConformerConvModule(nn.Module):
    def __init__(self, d_model, kernel, p):
        super().__init__()
        assert kernel % 2 == 1, "the depthwise kernel must be odd"
        self.layer_norm = nn.LayerNorm(d_model)
        self.pointwise_conv1 = nn.Conv1d(d_model, 2 * d_model, 1)
        self.depthwise_conv = nn.Conv1d(d_model, d_model, kernel, padding=(kernel - 1) // 2, groups=d_model)
        self.batch_norm = nn.BatchNorm1d(d_model)
        self.pointwise_conv2 = nn.Conv1d(d_model, d_model, 1)
        self.dropout = nn.Dropout(p)

    def forward(self, x, key_padding_mask):
        h = self.layer_norm(x).transpose(1, 2)          # [N, D, T]
        h = F.glu(self.pointwise_conv1(h), dim=1)       # first half * sigmoid(second half)
        h = h.masked_fill(key_padding_mask.unsqueeze(1), 0.0)
        h = F.silu(self.batch_norm(self.depthwise_conv(h)))
        return self.dropout(self.pointwise_conv2(h)).transpose(1, 2)


def relative_positional_encoding(time_, d_model, dtype=torch.float32):
    """[1, 2T - 1, D]: positions T-1 .. -(T-1), pe[r, 2i] = sin(r / 10000^(2i/D)), pe[r, 2i+1] = cos(...)."""
    positions = torch.arange(time_ - 1, -time_, -1, dtype=torch.float64).unsqueeze(1)
    freq = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) * (-math.log(10000.0) / d_model)).unsqueeze(0)
    angle = positions * freq
    return torch.stack([torch.sin(angle), torch.cos(angle)], 2).reshape(1, 2 * time_ - 1, d_model).to(dtype)


class RelPositionMultiHeadAttention(nn.Module):
    """score(i, j) = ((q_i + u) . k_j + (q_i + v) . p_{i-j}) / sqrt(d_k) (tensorgrad's rel_attention.cpp)."""

    def __init__(self, d_model, heads, dropout):
        super().__init__()
        self.h, self.dk, self.p = heads, d_model // heads, dropout
        self.linear_q = nn.Linear(d_model, d_model)
        self.linear_k = nn.Linear(d_model, d_model)
        self.linear_v = nn.Linear(d_model, d_model)
        self.linear_out = nn.Linear(d_model, d_model)
        self.linear_pos = nn.Linear(d_model, d_model, bias=False)
        self.pos_bias_u = nn.Parameter(torch.zeros(heads, self.dk))
        self.pos_bias_v = nn.Parameter(torch.zeros(heads, self.dk))

    def forward(self, x, pos_emb, key_padding_mask):
        n, t, d = x.shape
        h, dk = self.h, self.dk

        def heads(y, rows):
            return y.reshape(y.size(0), rows, h, dk).transpose(1, 2)

        q, k, v = heads(self.linear_q(x), t), heads(self.linear_k(x), t), heads(self.linear_v(x), t)
        p = heads(self.linear_pos(pos_emb), 2 * t - 1)  # [1, H, 2T - 1, dk]
        u, w = self.pos_bias_u.reshape(1, h, 1, dk), self.pos_bias_v.reshape(1, h, 1, dk)
        scale = 1.0 / math.sqrt(dk)
        everything = torch.matmul(q + w, p.transpose(2, 3))  # [N, H, T, 2T - 1]
        i = torch.arange(t).unsqueeze(1)
        j = torch.arange(t).unsqueeze(0)
        index = ((j - i) + (t - 1)).reshape(1, 1, t, t).expand(n, h, t, t)
        scores = torch.matmul(q + u, k.transpose(2, 3)) * scale + torch.gather(everything, 3, index) * scale
        scores = scores.masked_fill(key_padding_mask.reshape(n, 1, 1, t), float("-inf"))
        weights = F.dropout(torch.softmax(scores, -1), self.p, self.training)
        y = torch.matmul(weights, v)  # [N, H, T, dk]
        return self.linear_out(y.transpose(1, 2).reshape(n, t, d))


class ConformerBlock(nn.Module):
    def __init__(self, d_model, heads, ffn_dim, kernel, dropout, attention_dropout, relative_positions):
        super().__init__()
        self.ffn1 = ConformerFeedForward(d_model, ffn_dim, dropout)
        self.self_attn_layer_norm = nn.LayerNorm(d_model)
        self.relative_positions = relative_positions
        if relative_positions:
            self.self_attn = RelPositionMultiHeadAttention(d_model, heads, attention_dropout)
        else:
            self.self_attn = nn.MultiheadAttention(d_model, heads, dropout=attention_dropout, batch_first=True)
        self.self_attn_dropout = nn.Dropout(dropout)
        self.conv_module = ConformerConvModule(d_model, kernel, dropout)
        self.ffn2 = ConformerFeedForward(d_model, ffn_dim, dropout)
        self.final_layer_norm = nn.LayerNorm(d_model)

    def forward(self, x, key_padding_mask):
        h = x + self.ffn1(x) * 0.5
        a = self.self_attn_layer_norm(h)
        if self.relative_positions:
            attended = self.self_attn(a, relative_positional_encoding(a.size(1), a.size(2), a.dtype), key_padding_mask)
        else:
            attended = self.self_attn(a, a, a, key_padding_mask=key_padding_mask, need_weights=False)[0]
        h = h + self.self_attn_dropout(attended)
        h = h + self.conv_module(h, key_padding_mask)
        h = h + self.ffn2(h) * 0.5
        return self.final_layer_norm(h)


class ConformerEncoder(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.pre_encode = Conv2dSubsampling(FEAT_IN, a.d_model, a.subsampling_channels)
        self.pre_dropout = nn.Dropout(a.dropout)
        self.layers = nn.ModuleList(
            ConformerBlock(a.d_model, a.heads, a.ffn, a.kernel, a.dropout, a.attention_dropout, a.relative_positions)
            for _ in range(a.layers))

    def forward(self, features, lengths):
        h, out_lengths = self.pre_encode(features, lengths)
        mask = padding_mask(out_lengths, h.size(1))
        h = self.pre_dropout(h)
        for layer in self.layers:
            h = layer(h, mask)
        return h, out_lengths


class ConformerCtc(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.encoder = ConformerEncoder(a)
        self.head = nn.Linear(a.d_model, CLASSES)

    def forward(self, features, lengths):
        enc, out_lengths = self.encoder(features, lengths)
        return F.log_softmax(self.head(enc), -1), out_lengths


def num_parameters(model):
    return sum(p.numel() for p in model.parameters())


def ctc(log_probs, targets, out_lengths, target_lengths, reduction="mean"):
    """log_probs [N, T', C] -> CTC over [T', N, C], blank 0, zero_infinity (train.cpp's call)."""
    return F.ctc_loss(log_probs.transpose(0, 1), targets, out_lengths, target_lengths, blank=BLANK,
                      reduction=reduction, zero_infinity=True)


# ---------------------------------------------------------------------------------------------------------------
# Cached features (tools/asr/dataset.cpp's <manifest>.features.safetensors)

ST_DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "BOOL": np.bool_}


def read_safetensors(path):
    """(tensors: name -> numpy array (views of one buffer), metadata: dict of strings)."""
    data = bytearray(Path(path).read_bytes())  # writable, so torch.from_numpy shares it without a warning
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len].decode("utf-8"))
    metadata = header.pop("__metadata__", {}) or {}
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        dtype = ST_DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']}, which this reader does not handle")
        start, end = info["data_offsets"]
        count = int(np.prod(info["shape"], dtype=np.int64))
        arr = np.frombuffer(data, dtype=dtype, count=count, offset=base + start).reshape(info["shape"])
        if arr.nbytes != end - start:
            raise ValueError(f"{path}: tensor {name}: {end - start} bytes for shape {info['shape']}")
        tensors[name] = arr
    return tensors, metadata


class FeatureSet:
    def __init__(self, features, texts):
        self.features = features                 # float32 [frames, 80] tensors, normalised per feature
        self.texts = texts
        self.targets = [encode(t) for t in texts]
        self.total_frames = sum(f.shape[0] for f in features)


def load_features(manifest):
    cache = str(manifest) + ".features.safetensors"
    if not os.path.exists(cache):
        sys.exit(f"asr_torch: no feature cache {cache}; run `tg_asr train` (train.jsonl, dev.jsonl) or "
                 f"`tg_asr eval CHECKPOINT {manifest}` once to make it")
    tensors, meta = read_safetensors(cache)
    # The cache's key starts with "<hash of the manifest's bytes>:<its size>": check what we can (the size).
    key = meta.get("key", "")
    if os.path.exists(manifest):
        size = os.path.getsize(manifest)
        if not key.split(" ")[0].endswith(f":{size}"):
            print(f"asr_torch: warning: {cache} may be stale (its key {key.split(' ')[0]!r} does not name the "
                  f"manifest's {size} bytes); tg_asr would recompute it", file=sys.stderr)
    n = int(meta["count"])
    features = [torch.from_numpy(tensors[f"features.{i}"]) for i in range(n)]
    texts = [meta[f"text.{i}"] for i in range(n)]
    return FeatureSet(features, texts)


def make_batches(fs, max_frames, rng=None):
    """Sorted by length (stable), cut where (size + 1) * longest > max_frames; the order shuffled by rng."""
    order = sorted(range(len(fs.features)), key=lambda i: fs.features[i].shape[0])
    batches, current = [], []
    for i in order:
        longest = fs.features[i].shape[0]
        if current and (len(current) + 1) * longest > max_frames:
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    if rng is not None:
        perm = rng.permutation(len(batches))
        batches = [batches[k] for k in perm]
    return batches


def collate(fs, indices):
    n = len(indices)
    t = max(fs.features[i].shape[0] for i in indices)
    s = max([1] + [len(fs.targets[i]) for i in indices])
    x = torch.zeros(n, t, fs.features[indices[0]].shape[1])
    targets = torch.zeros(n, s, dtype=torch.int64)
    lengths, target_lengths = [], []
    for row, i in enumerate(indices):
        f = fs.features[i]
        x[row, :f.shape[0]] = f
        tg = fs.targets[i]
        targets[row, :len(tg)] = torch.tensor(tg, dtype=torch.int64)
        lengths.append(f.shape[0])
        target_lengths.append(len(tg))
    return x, torch.tensor(lengths, dtype=torch.int64), targets, torch.tensor(target_lengths, dtype=torch.int64)


def spec_augment(x, lengths, rng, freq_masks=2, freq_width=15, time_masks=2, time_width=0.05):
    """In place on x [N, T, F]: per utterance, bands of bins and stretches of its real frames set to 0."""
    n, _, f = x.shape
    for row in range(n):
        frames = int(lengths[row])
        for _ in range(freq_masks):
            w = int(rng.integers(0, min(freq_width, f) + 1))
            f0 = int(rng.integers(0, f - w + 1))
            x[row, :frames, f0:f0 + w] = 0
        if frames == 0:
            continue
        max_w = max(1, int(time_width * frames))
        for _ in range(time_masks):
            w = int(rng.integers(0, min(max_w, frames) + 1))
            t0 = int(rng.integers(0, frames - w + 1))
            x[row, t0:t0 + w, :] = 0
    return x


# ---------------------------------------------------------------------------------------------------------------
# Decoding and error rates (src/nn/ctc_decoding.cpp, src/nn/error_rate.cpp)

def greedy_decode(log_probs, lengths):
    """log_probs [N, T, C] -> one list of labels per utterance: argmax per frame, repeats merged, blanks out."""
    best = log_probs.argmax(-1).tolist()
    out = []
    for row, frames in zip(best, lengths.tolist()):
        labels, previous = [], -1
        for b in row[:frames]:
            if b != BLANK and b != previous:
                labels.append(b)
            previous = b
        out.append(labels)
    return out


def edit_distance(ref, hyp):
    row = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        diagonal, row[0] = row[0], i
        for j in range(1, len(hyp) + 1):
            up = row[j]
            row[j] = min(up + 1, row[j - 1] + 1, diagonal + (ref[i - 1] != hyp[j - 1]))
            diagonal = up
    return row[len(hyp)]


def error_rate(refs, hyps, split):
    edits = length = 0
    for r, h in zip(refs, hyps):
        rs = split(r)
        edits += edit_distance(rs, split(h))
        length += len(rs)
    if length == 0:
        return 0.0 if edits == 0 else math.inf
    return edits / length


def word_error_rate(refs, hyps):
    return error_rate(refs, hyps, str.split)


def char_error_rate(refs, hyps):
    return error_rate(refs, hyps, list)


def evaluate(model, fs, max_frames):
    """(loss, CER, WER): train.cpp's run_dev (loss: per utterance over its target length, then the mean)."""
    model.eval()
    refs, hyps, loss_sum, n = [], [], 0.0, 0
    with torch.no_grad():
        for indices in make_batches(fs, max_frames):
            x, lengths, targets, target_lengths = collate(fs, indices)
            lp, out_lengths = model(x, lengths)
            losses = ctc(lp, targets, out_lengths, target_lengths, reduction="none").double()
            loss_sum += (losses / target_lengths.clamp(min=1).double()).sum().item()
            n += len(indices)
            for i, labels in zip(indices, greedy_decode(lp, out_lengths)):
                refs.append(fs.texts[i])
                hyps.append(decode(labels))
    model.train()
    return loss_sum / max(n, 1), char_error_rate(refs, hyps), word_error_rate(refs, hyps)


# ---------------------------------------------------------------------------------------------------------------
# Modes

def set_threads(threads):
    t = threads if threads > 0 else (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count())
    torch.set_num_threads(t)
    torch.set_num_interop_threads(1)
    return t


def describe(model, a):
    return (f"{num_parameters(model)} parameters (d_model {a.d_model}, {a.layers} blocks, {a.heads} heads, "
            f"kernel {a.kernel}, subsampling channels {a.subsampling_channels}"
            f"{', relative positions' if a.relative_positions else ''})")


def time_steps(a):
    threads = set_threads(a.threads)
    torch.manual_seed(a.seed)
    model = ConformerCtc(a)
    frames = int(a.seconds * 100)
    if a.batch <= 0 or frames < 16:
        sys.exit("asr_torch --time: --batch must be positive and --seconds at least 0.16")
    # As tools/asr/profile.cpp: random normal features, all frames real, targets of frames // 16 labels from the
    # characters (3 .. 28), AdamW with its defaults (lr 1e-3, betas 0.9 / 0.999, eps 1e-8, weight decay 1e-2).
    x = torch.randn(a.batch, frames, FEAT_IN)
    lengths = torch.full((a.batch,), frames, dtype=torch.int64)
    target_length = max(1, frames // 16)
    targets = torch.randint(3, CLASSES, (a.batch, target_length))
    target_lengths = torch.full((a.batch,), target_length, dtype=torch.int64)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    params = list(model.parameters())

    def step():
        lp, out_lengths = model(x, lengths)
        loss = ctc(lp, targets, out_lengths, target_lengths)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()

    print(f"asr_torch --time: batch {a.batch} x {frames} frames ({a.seconds:g} s each), {describe(model, a)}, "
          f"{threads} threads, torch {torch.__version__}")
    model.train()
    step()  # warm-up
    ms = []
    for _ in range(a.steps):
        start = time.perf_counter()
        step()
        ms.append((time.perf_counter() - start) * 1e3)
    ms.sort()
    median = ms[len(ms) // 2]
    print(f"{a.steps} training steps: median {median:.1f} ms, min {ms[0]:.1f} ms, max {ms[-1]:.1f} ms "
          f"({a.batch * a.seconds / (median / 1e3):.1f} s of audio per second)")
    print(f"torch_step_ms median={median:.2f} min={ms[0]:.2f} threads={threads} batch={a.batch} frames={frames} "
          f"params={num_parameters(model)}")


def train(a):
    threads = set_threads(a.threads)
    corpus = Path(a.corpus)
    t0 = time.perf_counter()
    train_set = load_features(corpus / "train.jsonl")
    dev_set = load_features(corpus / "dev.jsonl")
    # tg_asr train caches train and dev only; test's cache comes from `tg_asr eval CHECKPOINT <corpus>/test.jsonl`.
    test_cache = corpus / "test.jsonl.features.safetensors"
    test_set = load_features(corpus / "test.jsonl") if test_cache.exists() else None
    if test_set is None:
        print(f"asr_torch: warning: no {test_cache} (run `tg_asr eval CHECKPOINT {corpus / 'test.jsonl'}` once to "
              f"make it); test_wer / test_cer will be nan", file=sys.stderr)
    print(f"asr_torch --train: corpus {corpus}, {threads} threads, torch {torch.__version__}; features loaded in "
          f"{time.perf_counter() - t0:.1f} s")
    print(f"train: {len(train_set.features)} utterances ({train_set.total_frames / 6000.0:.1f} min of audio); "
          f"dev: {len(dev_set.features)}; test: {len(test_set.features) if test_set is not None else 'no cache'}")

    torch.manual_seed(a.seed)
    model = ConformerCtc(a)
    model.train()
    print(f"model: {describe(model, a)}")
    params = list(model.parameters())
    opt = torch.optim.AdamW(params, lr=a.lr, betas=(0.9, 0.98), eps=1e-9, weight_decay=a.weight_decay)

    steps_per_epoch = len(make_batches(train_set, a.max_frames))
    total = a.steps if a.steps is not None else steps_per_epoch * a.epochs
    if total <= 0:
        sys.exit("asr_torch --train: nothing to do (0 steps)")
    peak = a.lr
    warmup = min(a.warmup, max(total // 4, 1))

    def lr_at(t):
        if t < warmup:
            return peak * (t + 1) / warmup
        progress = (t - warmup) / max(total - warmup, 1)
        return peak * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))

    print(f"{total} steps ({steps_per_epoch} batches an epoch of at most {a.max_frames} padded frames, "
          f"{total / steps_per_epoch:.2f} epochs); warm-up {warmup} steps to lr {peak:g}, then cosine to "
          f"{0.02 * peak:g}; SpecAugment {'on' if a.spec_augment else 'off'}")

    step = 0
    epoch = 0
    train_seconds = 0.0
    utterances_done = 0
    while step < total:
        rng = np.random.default_rng([a.seed, epoch])  # batch order and SpecAugment of this epoch
        batches = make_batches(train_set, a.max_frames, rng)
        epoch_start = time.perf_counter()
        epoch_loss = epoch_utt = 0.0
        window_loss = window_utt = 0.0
        window_start = time.perf_counter()
        for indices in batches:
            if step >= total:
                break
            for group in opt.param_groups:
                group["lr"] = lr_at(step)
            x, lengths, targets, target_lengths = collate(train_set, indices)
            if a.spec_augment:
                spec_augment(x, lengths, rng)
            lp, out_lengths = model(x, lengths)
            loss = ctc(lp, targets, out_lengths, target_lengths)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, a.clip)
            opt.step()
            step += 1
            value = loss.item() * len(indices)
            epoch_loss += value
            epoch_utt += len(indices)
            window_loss += value
            window_utt += len(indices)
            if step % a.log_every == 0 or step == total:
                now = time.perf_counter()
                print(f"step {step}/{total} | epoch {epoch + 1} | loss {window_loss / window_utt:.3f} | "
                      f"{window_utt / (now - window_start):.1f} utt/s | lr {lr_at(step - 1):.2e}", flush=True)
                window_loss = window_utt = 0.0
                window_start = time.perf_counter()
        seconds = time.perf_counter() - epoch_start
        train_seconds += seconds
        utterances_done += int(epoch_utt)
        epoch += 1
        partial = "" if len(batches) == steps_per_epoch and epoch_utt == len(train_set.features) else \
            f" (partial: {int(epoch_utt)} of {len(train_set.features)} utterances)"
        print(f"epoch {epoch}: train loss {epoch_loss / max(epoch_utt, 1):.4f}, {epoch_utt / seconds:.1f} utt/s, "
              f"{seconds:.0f} s{partial}", flush=True)
        if a.dev_every_epoch and step < total:
            dev_loss, dev_cer, dev_wer = evaluate(model, dev_set, a.max_frames)
            print(f"  dev loss {dev_loss:.4f}, dev CER {100 * dev_cer:.2f}%, dev WER {100 * dev_wer:.2f}%", flush=True)

    e0 = time.perf_counter()
    dev_loss, dev_cer, dev_wer = evaluate(model, dev_set, a.max_frames)
    test_loss, test_cer, test_wer = evaluate(model, test_set, a.max_frames) if test_set is not None else (math.nan,) * 3
    eval_seconds = time.perf_counter() - e0
    print(f"dev:  {len(dev_set.features)} utterances, loss {dev_loss:.4f}, WER {100 * dev_wer:.2f}%, "
          f"CER {100 * dev_cer:.2f}% (greedy)")
    if test_set is not None:
        print(f"test: {len(test_set.features)} utterances, loss {test_loss:.4f}, WER {100 * test_wer:.2f}%, "
              f"CER {100 * test_cer:.2f}% (greedy)")
    print(f"training: {step} steps, {epoch} epochs ({step / steps_per_epoch:.2f}), {train_seconds:.1f} s, "
          f"{utterances_done / train_seconds:.1f} utt/s; evaluation {eval_seconds:.1f} s")
    print(f"torch_asr steps={step} dev_wer={100 * dev_wer:.2f} dev_cer={100 * dev_cer:.2f} "
          f"test_wer={100 * test_wer:.2f} test_cer={100 * test_cer:.2f} seconds={train_seconds:.1f} "
          f"utt_per_s={utterances_done / train_seconds:.1f} threads={threads} params={num_parameters(model)}")


def eval_checkpoint(a):
    """A tg_asr checkpoint's weights in this model, greedy dev / test WER: a check of the replication."""
    threads = set_threads(a.threads)
    tensors, meta = read_safetensors(a.eval_checkpoint)
    a.d_model, a.layers, a.heads = int(meta["model.d_model"]), int(meta["model.layers"]), int(meta["model.heads"])
    a.ffn, a.kernel = int(meta["model.ffn_dim"]), int(meta["model.kernel"])
    a.subsampling_channels = int(meta["model.subsampling_channels"])
    a.dropout, a.attention_dropout = float(meta["model.dropout"]), float(meta["model.attention_dropout"])
    model = ConformerCtc(a)
    state = {k[len("model."):]: torch.from_numpy(v) for k, v in tensors.items() if k.startswith("model.")}
    model.load_state_dict(state, strict=True)
    print(f"asr_torch --eval-checkpoint: {a.eval_checkpoint}, model: {describe(model, a)}, {threads} threads")
    line = [f"torch_asr_eval epochs_done={meta.get('epochs_done', '?')}"]
    for split in ("dev", "test"):
        manifest = Path(a.corpus) / f"{split}.jsonl"
        if not os.path.exists(str(manifest) + ".features.safetensors"):
            print(f"{split}: no feature cache, skipped")
            continue
        fs = load_features(manifest)
        loss, cer, wer = evaluate(model, fs, a.max_frames)
        print(f"{split}: {len(fs.features)} utterances, loss {loss:.4f}, WER {100 * wer:.2f}%, CER {100 * cer:.2f}% "
              f"(greedy, batches of at most {a.max_frames} padded frames)")
        line.append(f"{split}_loss={loss:.4f} {split}_wer={100 * wer:.2f} {split}_cer={100 * cer:.2f}")
    print(" ".join(line))


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Defaults shown for options that take a value, not for flags or options without one."""

    def _get_help_string(self, action):
        if action.nargs == 0 or action.default is None:
            return action.help
        return super()._get_help_string(action)


def main():
    p = argparse.ArgumentParser(
        description="PyTorch baseline for tg_asr: the same Conformer-CTC, recipe and cached features. "
                    "--time: training-step time on random features (as `tg_asr profile --time-steps K`); "
                    "--train: train on a make-corpus directory's cached features, then greedy WER / CER on dev and "
                    "test. Run with /usr/bin/python3.",
        formatter_class=HelpFormatter)
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--time", action="store_true",
                      help="time --steps training steps after one warm-up; prints "
                           "'torch_step_ms median=... min=... threads=T batch=B frames=F params=P'")
    mode.add_argument("--train", action="store_true",
                      help="train on CORPUS/train.jsonl.features.safetensors, evaluate on dev and test; prints "
                           "'torch_asr steps=N dev_wer=... dev_cer=... test_wer=... test_cer=... seconds=...' "
                           "(percent; seconds: the training steps alone)")
    mode.add_argument("--print-params", action="store_true",
                      help="print the model's parameter count and parameter names / shapes, and exit")
    mode.add_argument("--eval-checkpoint", metavar="CHECKPOINT",
                      help="load a tg_asr train checkpoint.safetensors into this model (its shape from the "
                           "checkpoint) and print greedy WER / CER on --corpus's dev and test caches: a check that "
                           "the two models compute the same thing (tg_asr eval uses --max-frames 12000)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores); inter-op threads are 1")
    p.add_argument("--seed", type=int, default=1, help="seed of the initialisation, data order, SpecAugment, dropout")
    p.add_argument("--steps", type=int, default=None,
                   help="--time: timed steps (default 10); --train: optimizer steps (the schedule spans them; "
                        "default: --epochs epochs)")

    t = p.add_argument_group("--time (tg_asr profile's flags)")
    t.add_argument("--batch", type=int, default=16, help="utterances per batch")
    t.add_argument("--seconds", type=float, default=4.0, help="seconds per utterance (100 frames a second)")

    r = p.add_argument_group("--train (tg_asr train's flags)")
    r.add_argument("--corpus", help="the make-corpus directory (train/dev/test.jsonl and their feature caches)")
    r.add_argument("--epochs", type=int, default=28, help="epochs, when --steps is not given")
    r.add_argument("--max-frames", type=int, default=8000, help="padded feature frames per batch (10 ms each)")
    r.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (AdamW)")
    r.add_argument("--warmup", type=int, default=300, help="warm-up steps, then cosine decay")
    r.add_argument("--weight-decay", type=float, default=1e-3, help="AdamW's decoupled weight decay")
    r.add_argument("--clip", type=float, default=5.0, help="gradient norm clipping")
    r.add_argument("--no-spec-augment", dest="spec_augment", action="store_false", help="train without SpecAugment")
    r.add_argument("--log-every", type=int, default=50, help="progress line every this many steps")
    r.add_argument("--dev-every-epoch", action="store_true",
                   help="also decode dev after every epoch (tg_asr train does; not counted in seconds=)")

    m = p.add_argument_group("model (tg_asr's model-shape flags)")
    m.add_argument("--d-model", type=int, default=144, help="model width")
    m.add_argument("--layers", type=int, default=4, help="Conformer blocks")
    m.add_argument("--heads", type=int, default=4, help="attention heads")
    m.add_argument("--ffn", type=int, default=576, help="feed-forward width")
    m.add_argument("--kernel", type=int, default=15, help="depthwise convolution kernel")
    m.add_argument("--subsampling-channels", type=int, default=144, help="channels of the 4x subsampling")
    m.add_argument("--dropout", type=float, default=0.1, help="dropout")
    m.add_argument("--attention-dropout", type=float, default=0.0, help="dropout on the attention weights")
    m.add_argument("--relative-positions", action="store_true",
                   help="relative-position self-attention (tensorgrad's RelPositionMultiHeadAttention); not a tg_asr "
                        "flag: tg_asr's model uses plain multi-head attention without positions")
    a = p.parse_args()

    if a.print_params:
        torch.manual_seed(a.seed)
        model = ConformerCtc(a)
        print(f"params={num_parameters(model)}")
        for name, param in model.named_parameters():
            print(f"  {name} {list(param.shape)}")
        return
    if a.eval_checkpoint:
        if not a.corpus:
            p.error("--eval-checkpoint needs --corpus")
        eval_checkpoint(a)
        return
    if a.time:
        if a.steps is None:
            a.steps = 10
        if a.steps <= 0:
            p.error("--time needs --steps >= 1")
        time_steps(a)
    else:
        if not a.corpus:
            p.error("--train needs --corpus")
        if a.steps is not None and a.steps <= 0:
            p.error("--steps must be positive")
        if a.log_every <= 0:
            p.error("--log-every must be positive")
        train(a)


if __name__ == "__main__":
    main()
