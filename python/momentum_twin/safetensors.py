"""Safetensors files, as src/train/safetensors.ts reads and writes them (Debian has no safetensors
package): u64 little-endian header length, a JSON header padded with spaces to a multiple of 8,
then the raw little-endian tensors, ordered by element size and name. The CRC-32 (zlib's) of the
data buffer goes into the metadata under 'crc32'; the reader checks it and drops the key. For the
same tensors and metadata the bytes equal the TypeScript writer's."""
import json
import os
import struct
import zlib

import numpy as np

from .jsjson import stringify

CHECKSUM_KEY = 'crc32'
METADATA_KEY = '__metadata__'
HEADER_ALIGN = 8
MAX_HEADER_BYTES = 100_000_000
DTYPES = {'F32': np.dtype('<f4'), 'U32': np.dtype('<u4'), 'I32': np.dtype('<i4'), 'U8': np.dtype('u1')}


class SafetensorsError(ValueError):
    pass


def _dtype_of(name, array):
    for k, v in DTYPES.items():
        if array.dtype.kind == v.kind and array.dtype.itemsize == v.itemsize:
            return k
    raise SafetensorsError(f"tensor '{name}': unsupported dtype {array.dtype} (supported: {', '.join(DTYPES)})")


def encode(tensors, metadata=None, checksum=True):
    """tensors: {name: numpy array} (F32, U32, I32, U8); metadata: {str: str}. Returns bytes."""
    metadata = dict(metadata or {})
    for k, v in metadata.items():
        if not isinstance(v, str):
            raise SafetensorsError(f"metadata '{k}' must be a string, got {type(v).__name__}")
        if checksum and k == CHECKSUM_KEY:
            raise SafetensorsError(f"metadata key '{CHECKSUM_KEY}' is reserved for the checksum")
    items = []
    for name, a in tensors.items():
        if not isinstance(name, str) or not name:
            raise SafetensorsError(f'a tensor name must be a non-empty string, got {name!r}')
        if name == METADATA_KEY:
            raise SafetensorsError(f"'{METADATA_KEY}' is reserved and cannot name a tensor")
        a = np.asarray(a)
        dt = _dtype_of(name, a)
        items.append((name, dt, np.ascontiguousarray(a, dtype=DTYPES[dt])))
    # Larger elements first, then by name (UTF-16 order in JS; names here are ASCII).
    items.sort(key=lambda t: (-DTYPES[t[1]].itemsize, t[0]))
    entries = {}
    chunks = []
    offset = 0
    for name, dt, a in items:
        raw = a.tobytes()
        entries[name] = {'dtype': dt, 'shape': list(a.shape), 'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    buffer = b''.join(chunks)
    if checksum:
        metadata[CHECKSUM_KEY] = f'{zlib.crc32(buffer) & 0xFFFFFFFF:08x}'
    header = ({METADATA_KEY: metadata} if metadata else {}) | entries
    text = stringify(header).encode('utf-8')
    padded = -(-len(text) // HEADER_ALIGN) * HEADER_ALIGN
    return struct.pack('<Q', padded) + text + b' ' * (padded - len(text)) + buffer


def decode(data, verify=True):
    """Parses bytes; returns (tensors {name: numpy array}, metadata without the checksum key).
    Every error names the tensor and the sizes involved."""
    if len(data) < 8:
        raise SafetensorsError(f'truncated file: {len(data)} bytes, less than the 8-byte header length')
    (hlen,) = struct.unpack_from('<Q', data, 0)
    if hlen > len(data) - 8:
        raise SafetensorsError(f'header length {hlen} goes beyond the file ({len(data) - 8} bytes after the length field): truncated or not safetensors')
    if hlen > MAX_HEADER_BYTES:
        raise SafetensorsError(f'header length {hlen} exceeds the {MAX_HEADER_BYTES}-byte limit')
    try:
        header = json.loads(bytes(data[8:8 + hlen]).decode('utf-8'))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(f'the {hlen}-byte header is not valid UTF-8 JSON ({e})') from None
    if not isinstance(header, dict):
        raise SafetensorsError('the header must be a JSON object')
    start = 8 + hlen
    size = len(data) - start
    metadata = {}
    infos = []
    for name, e in header.items():
        if name == METADATA_KEY:
            if not isinstance(e, dict) or not all(isinstance(v, str) for v in e.values()):
                raise SafetensorsError(f"'{METADATA_KEY}' must be an object of strings")
            metadata = dict(e)
            continue
        where = f"tensor '{name}'"
        if not isinstance(e, dict):
            raise SafetensorsError(f'{where}: entry must be an object with dtype, shape, data_offsets')
        dt, shape, offs = e.get('dtype'), e.get('shape'), e.get('data_offsets')
        if dt not in DTYPES:
            raise SafetensorsError(f'{where}: unsupported dtype {json.dumps(dt)} (supported: {", ".join(DTYPES)})')
        if not isinstance(shape, list) or not all(isinstance(s, int) and s >= 0 for s in shape):
            raise SafetensorsError(f'{where}: shape must be an array of non-negative integers, got {json.dumps(shape)}')
        if not (isinstance(offs, list) and len(offs) == 2 and all(isinstance(o, int) and o >= 0 for o in offs)):
            raise SafetensorsError(f'{where}: data_offsets must be [begin, end] non-negative integers, got {json.dumps(offs)}')
        b, en = offs
        if b > en:
            raise SafetensorsError(f'{where}: data_offsets [{b}, {en}] end before they begin')
        if en > size:
            raise SafetensorsError(f'{where}: data_offsets [{b}, {en}] go beyond the {size}-byte data buffer (file truncated?)')
        need = int(np.prod(shape, dtype=np.int64)) * DTYPES[dt].itemsize
        if en - b != need:
            raise SafetensorsError(f'{where}: shape {shape} of {dt} needs {need} bytes but data_offsets [{b}, {en}] span {en - b}')
        infos.append((name, dt, shape, b, en))
    at = 0
    for name, _, _, b, en in sorted(infos, key=lambda t: (t[3], t[4])):
        if b < at:
            raise SafetensorsError(f"tensor '{name}' [{b}, {en}] overlaps the one before it")
        if b > at:
            raise SafetensorsError(f"hole of {b - at} bytes in the data buffer before tensor '{name}'")
        at = en
    if at != size:
        raise SafetensorsError(f'the data buffer has {size} bytes but the tensors cover {at}')
    buf = bytes(data[start:])
    if CHECKSUM_KEY in metadata:
        stored = metadata.pop(CHECKSUM_KEY)
        if len(stored) != 8 or any(c not in '0123456789abcdef' for c in stored):
            raise SafetensorsError(f"metadata '{CHECKSUM_KEY}' must be 8 lowercase hex digits, got '{stored}'")
        if verify:
            actual = f'{zlib.crc32(buf) & 0xFFFFFFFF:08x}'
            if actual != stored:
                raise SafetensorsError(
                    f"checksum mismatch: metadata '{CHECKSUM_KEY}' says {stored} but the {size}-byte data buffer gives {actual}: the data is corrupt")
    tensors = {}
    for name, dt, shape, b, en in infos:
        tensors[name] = np.frombuffer(buf[b:en], dtype=DTYPES[dt]).reshape(shape).copy()
    return tensors, metadata


def read(path, verify=True):
    with open(path, 'rb') as f:
        data = f.read()
    try:
        return decode(data, verify)
    except SafetensorsError as e:
        raise SafetensorsError(f'{path}: {e}') from None


def write(path, tensors, metadata=None, checksum=True):
    """Writes under a temporary name and renames, so a crash never leaves half a file."""
    data = encode(tensors, metadata, checksum)
    tmp = f'{path}.partial'
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
