"""The encoder's data, drawn bit for bit as the playground draws it: ListOps (src/tasks/listops.ts:
LRA's generator over the same Random stream, the fixed split seeds, held-out splits without the
training expressions, batches right-padded to their longest) and pixel-sequence image
classification (src/tasks/imageClassification.ts: raster grey levels with their labels, the MNIST
split, downsampling and subset), each with the epoch order of src/train/data.ts. Images come from
public/mnist-10k.bin (labels included) or an IDX images + labels pair, gzipped or not, checked as
src/tasks/idx.ts checks them."""
import gzip
import hashlib
import json
import os
import tempfile
import zlib

import numpy as np

from .data import MNIST_BIN, MNIST_SPLIT_SEED, MNIST_TEST_COUNT, Batch, EpochSampler, Random, data_seed, downsample

# ---- ListOps

OPERATORS = ('MAX', 'MIN', 'MED', 'SM')
PAD, DIGIT_BASE, OP_BASE = 0, 1, 11
CLOSE = OP_BASE + len(OPERATORS)
LISTOPS_VOCAB = CLOSE + 1
VALUE_P = 0.25  # LRA's, the playground's default (the task config does not set it)
MAX_ATTEMPTS = 200_000
SPLIT_SEEDS = (0x4C157001, 0x4C157002, 0x4C157003)  # train, validation, test (LISTOPS_SPLIT_SEEDS)


def listops_max_tokens(max_depth, max_args):
    tokens = 1
    for _ in range(max_depth - 1, 0, -1):
        tokens = 2 + max_args * tokens
        if tokens > (2**53 - 1) / (max_args + 1):
            return float('inf')
    return tokens


def check_listops(t):
    """The generator's configuration of a ListOps task; a ValueError names the first problem."""
    for k in ('minLength', 'maxLength', 'maxDepth', 'minArgs', 'maxArgs', 'trainExamples', 'testExamples'):
        if not (isinstance(t[k], int) and not isinstance(t[k], bool) and t[k] >= 1):
            raise ValueError(f'ListOps: {k} must be an integer >= 1; got {t[k]!r}')
    if t['minArgs'] > t['maxArgs']:
        raise ValueError(f"ListOps: minArgs {t['minArgs']} exceeds maxArgs {t['maxArgs']}")
    if t['minLength'] > t['maxLength']:
        raise ValueError(f"ListOps: minLength {t['minLength']} exceeds maxLength {t['maxLength']}")
    most = listops_max_tokens(t['maxDepth'], t['maxArgs'])
    if t['minLength'] > most:
        raise ValueError(f"ListOps: no expression can reach minLength {t['minLength']}: with maxDepth {t['maxDepth']} "
                         f"and maxArgs {t['maxArgs']} the longest has {most} tokens")
    if t['maxLength'] < t['minArgs'] + 2 and t['minLength'] > 1:
        raise ValueError(f"ListOps: length bounds [{t['minLength']}, {t['maxLength']}] admit no expression "
                         f"(an operator needs {t['minArgs'] + 2} tokens)")
    return t


def listops_example(rng, t):
    """One expression within the length bounds (LRA's rejection loop): (tokens, label). Draw order:
    per node one uniform (skipped at maxDepth), then the digit, or the argument count, the arguments
    depth-first and the operator (generateListOpsTree)."""
    depth_max, lo, hi = t['maxDepth'], t['minArgs'], t['maxArgs']

    def tree(depth, out):
        r = rng.uniform() if depth < depth_max else 1
        if r > VALUE_P:
            digit = rng.int(0, 9)
            out.append(DIGIT_BASE + digit)
            return digit
        count = rng.int(lo, hi)
        at = len(out)
        out.append(None)  # the operator, drawn after its arguments
        vals = [tree(depth + 1, out) for _ in range(count)]
        op = rng.int(0, len(OPERATORS) - 1)
        out[at] = OP_BASE + op
        out.append(CLOSE)
        if op == 0:
            return max(vals)
        if op == 1:
            return min(vals)
        if op == 3:
            return sum(vals) % 10
        s = sorted(vals)
        mid = len(s) >> 1
        return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) // 2  # trunc of a non-negative mean

    for _ in range(MAX_ATTEMPTS):
        tokens = []
        label = tree(1, tokens)
        if t['minLength'] <= len(tokens) <= t['maxLength']:
            return tokens, label
    raise ValueError(f"ListOps: no expression of {t['minLength']}-{t['maxLength']} tokens in {MAX_ATTEMPTS} draws "
                     f"(maxDepth {t['maxDepth']}, args {t['minArgs']}-{t['maxArgs']}, valueP {VALUE_P}): widen the bounds")


_splits = {}
CACHE_VERSION = 1  # bump when the generator changes: cached splits of an older one are not read


def cache_dir():
    """Where generated ListOps splits are kept ($TWIN_CACHE_DIR; empty: no cache)."""
    d = os.environ.get('TWIN_CACHE_DIR')
    return os.path.join(os.path.expanduser('~'), '.cache', 'momentum_twin') if d is None else d


def _cache_path(t):
    key = json.dumps({'version': CACHE_VERSION, 'valueP': VALUE_P, 'seeds': SPLIT_SEEDS, **t}, sort_keys=True)
    return os.path.join(cache_dir(), f"listops-{hashlib.sha256(key.encode()).hexdigest()[:24]}.npz")


def _pack_split(examples):
    lengths = np.array([len(e[0]) for e in examples], dtype=np.int64)
    tokens = np.concatenate([np.asarray(e[0], dtype=np.uint8) for e in examples]) if examples else np.zeros(0, np.uint8)
    return tokens, lengths, np.array([e[1] for e in examples], dtype=np.uint8)


def _unpack_split(tokens, lengths, labels, count, t):
    if len(lengths) != count or len(labels) != count or int(lengths.sum()) != len(tokens):
        raise ValueError('sizes')
    if count and (lengths.min() < t['minLength'] or lengths.max() > t['maxLength'] or labels.max() > 9 or tokens.max() >= LISTOPS_VOCAB):
        raise ValueError('bounds')
    ends = np.cumsum(lengths)
    return [(tokens[e - n:e].tolist(), int(y)) for e, n, y in zip(ends, lengths, labels)]


def _read_cache(path, t):
    try:
        with np.load(path) as z:
            return (_unpack_split(z['train_tokens'], z['train_lengths'], z['train_labels'], t['trainExamples'], t),
                    _unpack_split(z['test_tokens'], z['test_lengths'], z['test_labels'], t['testExamples'], t))
    except (OSError, KeyError, ValueError):
        return None  # absent or not ours: generate (and overwrite)


def _write_cache(path, train, test):
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix='.partial')
        with os.fdopen(fd, 'wb') as f:
            a, b = _pack_split(train), _pack_split(test)
            np.savez(f, train_tokens=a[0], train_lengths=a[1], train_labels=a[2], test_tokens=b[0], test_lengths=b[1], test_labels=b[2])
        os.replace(tmp, path)  # concurrent runs of one group write the same bytes
    except OSError:
        pass  # a read-only home: the next run generates again


def listops_splits(t):
    """(train, test) lists of (tokens, label), as src/train/data.ts's listOpsData (no validation split).
    Generating LRA-sized splits takes minutes in Python, so they are kept in cache_dir() by config."""
    key = tuple(sorted(t.items()))
    if key in _splits:
        return _splits[key]
    check_listops(t)
    path = _cache_path(t) if cache_dir() else None
    cached = _read_cache(path, t) if path else None
    if cached:
        _splits[key] = cached
        return cached
    seen = set()

    def draw(seed, count, exclude):
        rng = Random(seed)
        out, misses = [], 0
        while len(out) < count:
            tokens, label = listops_example(rng, t)
            k = tuple(tokens)
            if exclude and k in seen:
                misses += 1
                if misses > MAX_ATTEMPTS:
                    raise ValueError(f'ListOps: too few distinct expressions for {count} held-out examples; widen the bounds')
                continue
            seen.add(k)
            out.append((tokens, label))
        return out

    train = draw(SPLIT_SEEDS[0], t['trainExamples'], False)
    test = draw(SPLIT_SEEDS[2], t['testExamples'], True)
    if path:
        _write_cache(path, train, test)
    _splits[key] = (train, test)
    return train, test


def pack_listops(examples):
    """Right-padded to the batch's longest expression (packListOps)."""
    n = max(len(e[0]) for e in examples)
    inputs = np.zeros((len(examples), n), dtype=np.uint32)
    for i, (tokens, _) in enumerate(examples):
        inputs[i, :len(tokens)] = tokens
    lengths = np.array([len(e[0]) for e in examples], dtype=np.uint32)
    labels = np.array([e[1] for e in examples], dtype=np.uint32)
    return Batch(inputs, labels, None, lengths, True)


def index_batches(n, batch):
    return [range(i0, min(i0 + batch, n)) for i0 in range(0, n, batch)]


class ListOpsStream:
    def __init__(self, task, seed):
        self.task = task
        self.train, self.test = listops_splits(task)
        self.seq = task['maxLength']
        self.sampler = EpochSampler(len(self.train), data_seed(seed))

    def next(self, batch):
        return pack_listops([self.train[i] for i in self.sampler.next(batch)])

    def eval_batches(self, batch):
        return [pack_listops([self.test[i] for i in idx]) for idx in index_batches(len(self.test), batch)]

    def train_eval_batches(self, batch):
        """The training sample a classifier's training accuracy is taken on: the split's first
        sequences, as many as the test set (trainEvalBatches in src/train/data.ts)."""
        n = min(len(self.test), len(self.train))
        return [pack_listops([self.train[i] for i in idx]) for idx in index_batches(n, batch)]

    def state(self):
        return {'kind': 'listops', 'sampler': self.sampler.state()}

    def restore(self, s):
        if s.get('kind') != 'listops':
            raise ValueError(f"data state is for {s.get('kind')}, this run trains ListOps")
        if s['sampler']['size'] != len(self.train):
            raise ValueError(f"data state covers {s['sampler']['size']} training expressions, this split has {len(self.train)}")
        self.sampler = EpochSampler(0, state=s['sampler'])


# ---- images with labels

IDX_TYPES = {0x08: 'unsigned byte', 0x09: 'signed byte', 0x0B: 'int16', 0x0C: 'int32', 0x0D: 'float32', 0x0E: 'float64'}


def parse_idx(data, what):
    """(dims, u8 data) of an IDX file, gzipped or not; a ValueError names the problem (src/tasks/idx.ts)."""
    raw = data
    if data[:2] == b'\x1f\x8b':
        try:
            raw = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(f'{what}: IDX file (gzip) is corrupt or truncated: inflating {len(data)} compressed bytes failed ({e})') from None
        src = f'{what}: IDX file ({len(data)} bytes gzipped, {len(raw)} inflated)'
    else:
        src = f'{what}: IDX file ({len(raw)} bytes)'
    if len(raw) < 4:
        raise ValueError(f'{src}: header too short: {len(raw)} bytes, the magic number alone needs 4')
    magic = f'0x{int.from_bytes(raw[:4], "big"):08x}'
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(f'{src}: wrong magic {magic}: an IDX file starts with two zero bytes (e.g. 0x00000803)')
    code, ndims = raw[2], raw[3]
    if code != 0x08:
        known = IDX_TYPES.get(code)
        raise ValueError(f'{src}: type code 0x{code:02x} ({known}) is valid IDX but unsupported; only 0x08 (unsigned byte) is read'
                         if known else f'{src}: unknown type code 0x{code:02x} in magic {magic}')
    if ndims == 0:
        raise ValueError(f'{src}: magic {magic} announces 0 dimensions')
    header = 4 + 4 * ndims
    if len(raw) < header:
        raise ValueError(f'{src}: header too short: {len(raw)} bytes, but magic {magic} announces {ndims} dimensions, which need a {header}-byte header')
    dims = [int(v) for v in np.frombuffer(raw[4:header], dtype='>u4')]
    if 0 in dims:
        raise ValueError(f'{src}: dimension {dims.index(0)} of {dims} is 0')
    expected = int(np.prod(dims))
    actual = len(raw) - header
    if actual != expected:
        why = f'{expected - actual} bytes missing: truncated?' if actual < expected else f'{actual - expected} bytes too many'
        raise ValueError(f'{src}: data is {actual} bytes but dims {dims} need {expected} ({why})')
    return dims, np.frombuffer(raw[header:], dtype=np.uint8)


def read_file(path, hint):
    if not os.path.exists(path):
        raise FileNotFoundError(f'{path} not found: {hint}')
    with open(path, 'rb') as f:
        return f.read()


def labelled_images(task):
    """(images u8 [count, rows, cols], labels u8 [count]) of an image-classification task."""
    if task['source'] == 'embedded':
        data = read_file(MNIST_BIN, 'build it with `node scripts/build-mnist.mjs`')
        if len(data) < 24 or data[:4] != b'MNST':
            raise ValueError(f'{MNIST_BIN}: not an mnist-10k.bin file (magic MNST; built by scripts/build-mnist.mjs)')
        version, count, rows, cols = (int(v) for v in np.frombuffer(data[4:20], dtype='<u4'))
        n = count * rows * cols
        if version != 1 or len(data) != 24 + n + count:
            raise ValueError(f'{MNIST_BIN}: format version {version}, {len(data)} bytes; rebuild with scripts/build-mnist.mjs')
        images = np.frombuffer(data[24:24 + n], dtype=np.uint8).reshape(count, rows, cols)
        return images, np.frombuffer(data[24 + n:], dtype=np.uint8)
    if task['labels'] is None:
        raise ValueError(f"image classification on {task['source']} needs task.labels, the IDX labels file beside it")
    hint = 'the run was trained on this IDX file'
    dims, pix = parse_idx(read_file(task['source'], hint), f"images {task['source']}")
    if len(dims) != 3:
        raise ValueError(f"images {task['source']}: expected 3 dimensions [count, rows, cols], got {dims}")
    ldims, labels = parse_idx(read_file(task['labels'], hint), f"labels {task['labels']}")
    if len(ldims) != 1:
        raise ValueError(f"labels {task['labels']}: expected 1 dimension [count], got {ldims}"
                         + ('; is it an images file?' if len(ldims) == 3 else ''))
    if ldims[0] != dims[0]:
        raise ValueError(f"IDX dataset: {dims[0]} images but {ldims[0]} labels")
    return pix.reshape(dims), labels


def check_labels(labels, classes):
    """checkImageLabels: every label in 0..classes-1, or a ValueError naming the first image that is not."""
    if not (isinstance(classes, int) and classes >= 2):
        raise ValueError(f'image classification: classes must be an integer >= 2; got {classes!r}')
    bad = np.nonzero(labels >= classes)[0]
    if len(bad):
        raise ValueError(f'image classification: label {labels[bad[0]]} of image {bad[0]} is outside the {classes} classes 0..{classes - 1}')


class ImagesStream:
    def __init__(self, task, seed, images=None):
        self.task = task
        imgs, labels = labelled_images(task) if images is None else images
        check_labels(labels, task['classes'])
        count, rows, cols = imgs.shape
        res = task['resolution']
        if rows != cols:
            raise ValueError(f'image classification needs square images; these are {rows}x{cols}')
        if rows % res:
            raise ValueError(f'cannot downsample {rows}x{cols} images to {res}x{res} (not a divisor)')
        if count < 2:
            raise ValueError(f'need at least 2 images (train and test); got {count}')
        test_count = min(MNIST_TEST_COUNT, max(1, count // 10))
        order = Random(MNIST_SPLIT_SEED).permutation(count)
        tr, te = order[:count - test_count], order[count - test_count:]
        train, test = imgs[tr], imgs[te]
        if rows > res:
            train, test = downsample(train, rows // res), downsample(test, rows // res)
        train_labels, test_labels = labels[tr], labels[te]
        if task['subset'] is not None and task['subset'] < len(train):
            train, train_labels = train[:task['subset']], train_labels[:task['subset']]
        if task['testImages'] < len(test):
            test, test_labels = test[:task['testImages']], test_labels[:task['testImages']]
        self.train, self.test = train.reshape(len(train), -1), test.reshape(len(test), -1)
        self.train_labels, self.test_labels = train_labels, test_labels
        self.seq = res * res
        self.sampler = EpochSampler(len(self.train), data_seed(seed))

    @staticmethod
    def _batch(pix, labels, idx):
        idx = np.asarray(idx, dtype=np.int64)
        return Batch(pix[idx].astype(np.uint32), labels[idx].astype(np.uint32), None, None, True)

    def next(self, batch):
        return self._batch(self.train, self.train_labels, self.sampler.next(batch))

    def eval_batches(self, batch):
        return [self._batch(self.test, self.test_labels, list(idx)) for idx in index_batches(len(self.test), batch)]

    def train_eval_batches(self, batch):
        """As ListOpsStream.train_eval_batches: the first training images, as many as the test set."""
        n = min(len(self.test), len(self.train))
        return [self._batch(self.train, self.train_labels, list(idx)) for idx in index_batches(n, batch)]

    def state(self):
        return {'kind': 'images', 'sampler': self.sampler.state()}

    def restore(self, s):
        if s.get('kind') != 'images':
            raise ValueError(f"data state is for {s.get('kind')}, this run trains image classification")
        if s['sampler']['size'] != len(self.train):
            raise ValueError(f"data state covers {s['sampler']['size']} training images, this dataset has {len(self.train)} after split and subset")
        self.sampler = EpochSampler(0, state=s['sampler'])
