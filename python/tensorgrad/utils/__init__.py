"""tensorgrad.utils.data (loaders) and tensorgrad.utils.checkpoint."""
from . import checkpoint, data  # noqa: F401
