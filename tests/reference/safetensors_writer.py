"""Writes a dict of torch tensors as a safetensors file by hand (8-byte little-endian header length, compact
JSON header with sorted names, the data back to back), so the reference scripts need nothing beyond Debian's
python3-torch. Shared by make_torch_reference.py and make_fbank_reference.py."""
import json
import struct
from pathlib import Path

import torch

DTYPES = {torch.float64: "F64", torch.float32: "F32", torch.int64: "I64", torch.bool: "BOOL"}


def write_safetensors(path: Path, tensors: dict, metadata: dict) -> None:
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        data = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs))
