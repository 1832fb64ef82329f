"""The op profiler, as torch.profiler:

    with tensorgrad.profiler.profile() as prof:
        loss = model(x).sum(); loss.backward()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10))
    prof.export_chrome_trace("trace.json")
"""
from . import _C

record_function = _C.profiler.record_function


class profile:
    def __init__(self):
        self._profile = None

    def __enter__(self):
        self._profile = _C.profiler.Profile()
        return self

    def __exit__(self, *exc):
        self._profile.stop()
        return False

    def key_averages(self, group_by_input_shape=False):
        return self._profile.key_averages(group_by_input_shape)

    def export_chrome_trace(self, path):
        self._profile.export_chrome_trace(str(path))

    @property
    def events(self):
        return self._profile.num_events()
