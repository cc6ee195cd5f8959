"""Read and write the IDX format of the MNIST files (optionally gzip-compressed).

An IDX file is a 4-byte magic number, one big-endian uint32 per dimension, then the values in
C order. The magic number is ``0x00 0x00 <type code> <number of dimensions>``, which is why MNIST
images have magic 2051 (0x0803: unsigned bytes, 3 dimensions) and labels 2049 (0x0801: 1 dimension).
"""
from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

#: IDX type code -> numpy dtype (multi-byte types are big-endian in the file).
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF_DTYPE = {dtype.newbyteorder(">") if dtype.itemsize > 1 else dtype: code
                  for code, dtype in IDX_DTYPES.items()}

#: Magic numbers of the two MNIST file kinds.
MAGIC_IMAGES = 2051
MAGIC_LABELS = 2049


class IdxFormatError(ValueError):
    """The bytes are not a well-formed IDX file (bad magic, wrong length, broken gzip stream)."""


def magic_number(dtype: np.dtype, ndim: int) -> int:
    """The IDX magic number for an array of ``dtype`` with ``ndim`` dimensions."""
    dtype = np.dtype(dtype)
    key = dtype.newbyteorder(">") if dtype.itemsize > 1 else dtype
    if key not in _CODE_OF_DTYPE:
        allowed = ", ".join(str(d) for d in IDX_DTYPES.values())
        raise TypeError(f"IDX cannot store dtype {dtype}; allowed: {allowed}")
    if not 1 <= ndim <= 255:
        raise ValueError(f"IDX arrays need 1..255 dimensions, got {ndim}")
    return (_CODE_OF_DTYPE[key] << 8) | ndim


def parse_idx(data: bytes, *, name: str = "IDX data", expected_magic: int | None = None) -> np.ndarray:
    """Decode uncompressed IDX bytes into an array (native byte order, read-only view of a copy).

    ``name`` (usually the file name) is put in every error so the reader knows which file is bad;
    ``expected_magic`` rejects e.g. a labels file given where an images file belongs.
    """
    if len(data) < 4:
        raise IdxFormatError(f"{name}: only {len(data)} bytes, too short for an IDX header")
    zero, type_code, ndim = struct.unpack(">HBB", data[:4])
    magic = (type_code << 8) | ndim
    if zero != 0 or type_code not in IDX_DTYPES or ndim == 0:
        raise IdxFormatError(f"{name}: not an IDX file (magic number {struct.unpack('>I', data[:4])[0]})")
    if expected_magic is not None and magic != expected_magic:
        raise IdxFormatError(f"{name}: IDX magic number is {magic}, expected {expected_magic}")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise IdxFormatError(f"{name}: header announces {ndim} dimensions but the file ends inside it")
    shape = struct.unpack(f">{ndim}I", data[4:header_len])
    dtype = IDX_DTYPES[type_code]
    expected_len = header_len + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected_len:
        raise IdxFormatError(
            f"{name}: header says shape {shape} ({expected_len} bytes in all) but the file has "
            f"{len(data)} bytes (truncated or corrupt)"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def encode_idx(array: np.ndarray) -> bytes:
    """Encode an array as IDX bytes (the inverse of :func:`parse_idx`)."""
    array = np.asarray(array)
    magic = magic_number(array.dtype, array.ndim)
    big_endian = array.astype(array.dtype.newbyteorder(">"), copy=False) if array.dtype.itemsize > 1 else array
    header = struct.pack(f">I{array.ndim}I", magic, *array.shape)
    return header + np.ascontiguousarray(big_endian).tobytes()


def read_idx_gz(path: str | Path, *, expected_magic: int | None = None) -> np.ndarray:
    """Read a gzip-compressed IDX file; a broken gzip stream raises :class:`IdxFormatError`."""
    path = Path(path)
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as err:  # BadGzipFile is an OSError; truncation is EOFError
        if isinstance(err, FileNotFoundError):
            raise
        raise IdxFormatError(f"{path}: cannot decompress ({err}); the file is truncated or corrupt") from err
    return parse_idx(data, name=str(path), expected_magic=expected_magic)


def write_idx_gz(path: str | Path, array: np.ndarray) -> None:
    """Write ``array`` as a gzip-compressed IDX file (used for synthetic data in tests)."""
    # mtime=0 makes the bytes (and so the MD5) depend on the array only.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(encode_idx(array))
