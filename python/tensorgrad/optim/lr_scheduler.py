"""Learning-rate schedules, as torch.optim.lr_scheduler: call step() once per epoch (or per step, as the
schedule is meant); the optimizer's lr follows. Each is a C++ Scheduler applying a C++ schedule."""
from .. import _C

_optim = _C.optim


class _Scheduler(_optim.Scheduler):
    def __init__(self, optimizer, schedule):
        super().__init__(optimizer, schedule, 0)
        self.optimizer = optimizer


class StepLR(_Scheduler):
    """lr = base_lr * gamma ** (t // step_size)."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        super().__init__(optimizer, _optim.StepSchedule(optimizer.lr, step_size, gamma))


class CosineAnnealingLR(_Scheduler):
    """lr from base_lr down to eta_min along half a cosine over T_max steps."""

    def __init__(self, optimizer, T_max, eta_min=0.0):
        super().__init__(optimizer, _optim.CosineSchedule(optimizer.lr, T_max, eta_min))


class LambdaLR(_Scheduler):
    """lr = base_lr * lr_lambda(t)."""

    def __init__(self, optimizer, lr_lambda):
        base = optimizer.lr
        super().__init__(optimizer, _optim.LambdaSchedule(lambda t: base * lr_lambda(t)))


class LinearWarmup(_Scheduler):
    """A linear ramp from start_factor * lr to the schedule `after` (a StepLR/CosineAnnealingLR-like schedule
    object from tensorgrad._C.optim, or None for a constant lr) over warmup_steps steps."""

    def __init__(self, optimizer, warmup_steps, after=None, start_factor=0.0):
        after = after if after is not None else _optim.ConstantSchedule(optimizer.lr)
        super().__init__(optimizer, _optim.WarmupSchedule(warmup_steps, after, start_factor))
