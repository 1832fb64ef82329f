"""Datasets and the DataLoader, as torch.utils.data. Batches are built by a C++ thread ahead of use, shuffled
by (seed, epoch) so a run is reproducible; iterating the loader again gives the next epoch's order.

    train = TensorDataset(images, labels)
    for x, y in DataLoader(train, batch_size=128, shuffle=True):
        ...
"""
from .. import _C

Dataset = _C.data.Dataset
TensorDataset = _C.data.TensorDataset
DataLoader = _C.data.DataLoader
