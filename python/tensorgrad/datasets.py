"""Datasets on disk. Fashion-MNIST comes from Debian's dataset-fashion-mnist package (or a folder with the
four idx files)."""
from . import _C

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                         "Ankle boot")


def fashion_mnist(split="train", root=""):
    """(images float32 [N, 1, 28, 28] in [0, 1], labels int64 [N]) for split 'train' or 'test'."""
    return _C.data.load_fashion_mnist(split, root)


class FashionMNIST(_C.data.TensorDataset):
    """Fashion-MNIST as a TensorDataset: FashionMNIST(train=True)."""

    classes = FASHION_MNIST_CLASSES

    def __init__(self, root="", train=True):
        images, labels = fashion_mnist("train" if train else "test", root)
        super().__init__(images, labels)
