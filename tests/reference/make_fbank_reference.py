#!/usr/bin/python3
"""Writes tests/reference/fbank_reference.safetensors: real speech and torchaudio 0.13's Kaldi-compatible
log-mel filterbank of it, the values tests/audio/fbank_test.cpp checks tg::audio::fbank against.

  /usr/bin/python3 tests/reference/make_fbank_reference.py [out.safetensors]

Needs Debian's python3-torch, python3-torchaudio and espeak-ng. The speech: espeak-ng saying a digit string
(22050 Hz, 16-bit), resampled to 16 kHz by torchaudio.functional.resample, in float64. Everything is computed
in float64 (torch's default dtype set to float64, so the mel banks are too). Tensors:
  waveform    float64 [samples] at 16 kHz, in [-1, 1]
  fbank_a     fbank(num_mel_bins=80): the defaults (Povey window, pre-emphasis 0.97, DC offset removed,
              25 ms / 10 ms frames, 512-point FFT, 20 Hz to Nyquist, snip_edges)
  fbank_b     fbank(num_mel_bins=40, window_type="hanning", preemphasis_coefficient=0, remove_dc_offset=False,
              snip_edges=False, low_freq=0, high_freq=-400)
  fbank_c     fbank(num_mel_bins=64, window_type="hamming", use_power=False, frame_length=20, frame_shift=12.5)
"""
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import torch
import torchaudio
import torchaudio.compliance.kaldi as kaldi

sys.path.insert(0, str(Path(__file__).parent))
from safetensors_writer import write_safetensors  # noqa: E402

torch.set_default_dtype(torch.float64)
TEXT = "seven oh nine"
with tempfile.TemporaryDirectory() as tmp:
    wav_path = Path(tmp) / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(wav_path), TEXT], check=True)
    with wave.open(str(wav_path)) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2, "espeak-ng gave other than 16-bit mono"
        rate = w.getframerate()
        pcm = torch.frombuffer(bytearray(w.readframes(w.getnframes())), dtype=torch.int16)
waveform = torchaudio.functional.resample(pcm.to(torch.float64) / 32768.0, rate, 16000)
x = waveform.unsqueeze(0)
out = {
    "waveform": waveform,
    "fbank_a": kaldi.fbank(x, num_mel_bins=80),
    "fbank_b": kaldi.fbank(x, num_mel_bins=40, window_type="hanning", preemphasis_coefficient=0.0,
                           remove_dc_offset=False, snip_edges=False, low_freq=0.0, high_freq=-400.0),
    "fbank_c": kaldi.fbank(x, num_mel_bins=64, window_type="hamming", use_power=False, frame_length=20.0,
                           frame_shift=12.5),
}
path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("fbank_reference.safetensors")
write_safetensors(path, out, {"torch": torch.__version__, "torchaudio": torchaudio.__version__,
                              "script": "make_fbank_reference.py", "text": TEXT})
print(f"wrote {path}: {waveform.numel()} samples, {path.stat().st_size} bytes, torchaudio {torchaudio.__version__}")
