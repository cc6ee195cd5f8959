"""Data sets as in-memory tensors (:class:`Splits`), plus the pieces they are built from."""
from hpo_kit.data.download import ChecksumError, DownloadError, download_file, md5_of
from hpo_kit.data.idx import IdxFormatError, parse_idx, read_idx_gz, write_idx_gz
from hpo_kit.data.mnist import MnistArrays, MnistFallbackWarning, load_mnist, mnist_splits
from hpo_kit.data.splits import Splits
from hpo_kit.data.stratify import scale_sizes, stratified_split

__all__ = [
    "ChecksumError",
    "DownloadError",
    "IdxFormatError",
    "MnistArrays",
    "MnistFallbackWarning",
    "Splits",
    "download_file",
    "load_mnist",
    "md5_of",
    "mnist_splits",
    "parse_idx",
    "read_idx_gz",
    "scale_sizes",
    "stratified_split",
    "write_idx_gz",
]
