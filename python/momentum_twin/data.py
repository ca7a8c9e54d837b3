"""The playground's data, drawn bit for bit as src/tasks and src/train/data.ts draw it: the seeded
generator (xoshiro128** seeded by splitmix32), the copy task, the MNIST split, downsampling and
epoch order (the classification tasks, ListOps and images, are in classify_data.py). A stream's state is the same plain JSON the playground stores in its checkpoints."""
import gzip
import math
import os

import numpy as np

M32 = 0xFFFFFFFF
TWO32 = 1 << 32
GOLDEN_GAMMA = 0x9E3779B9
COPY_HELDOUT_SEED = 987_654_321
MQAR_HELDOUT_SEED = 192_837_465  # src/tasks/mqar.ts
MNIST_SPLIT_SEED = 2022
MNIST_TEST_COUNT = 1000
PIXEL_VOCAB = 256
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MNIST_BIN = os.path.join(ROOT, 'public', 'mnist-10k.bin')


def imul(a, b):
    return (a * b) & M32


def rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M32


class Random:
    """src/util/random.ts's Random: xoshiro128** v1.1 over four u32 words."""

    def __init__(self, seed):
        if not isinstance(seed, int) or seed < 0 or seed > 2**53 - 1:
            raise ValueError(f'seed must be a non-negative safe integer, got {seed}')
        x = (seed & M32) ^ imul(seed // TWO32 & M32, GOLDEN_GAMMA)
        s = []
        for _ in range(4):
            x = (x + GOLDEN_GAMMA) & M32
            z = x
            z = imul(z ^ (z >> 16), 0x85EBCA6B)
            z = imul(z ^ (z >> 13), 0xC2B2AE35)
            s.append((z ^ (z >> 16)) & M32)
        if not any(s):
            s[0] = 1
        self.s = s

    @classmethod
    def from_state(cls, state):
        if len(state) != 4 or not all(isinstance(w, int) and 0 <= w < TWO32 for w in state) or not any(state):
            raise ValueError(f'Random state must be 4 u32 words, not all zero; got {state}')
        r = cls(0)
        r.s = list(state)
        return r

    def state(self):
        return list(self.s)

    def next_u32(self):
        s0, s1, s2, s3 = self.s
        result = imul(rotl(imul(s1, 5), 7), 9)
        s2 ^= s0
        s3 ^= s1
        self.s = [s0 ^ s3, s1 ^ s2, s2 ^ ((s1 << 9) & M32), rotl(s3, 11)]
        return result

    def uniform(self):
        return self.next_u32() / TWO32

    def normal(self):
        u = 1 - self.uniform()
        v = self.uniform()
        return math.sqrt(-2 * math.log(u)) * math.cos(2 * math.pi * v)

    def int(self, a, b):
        rng = b - a + 1
        limit = TWO32 - TWO32 % rng
        x = self.next_u32()
        while x >= limit:
            x = self.next_u32()
        return a + x % rng

    def permutation(self, n):
        out = list(range(n))
        for i in range(n - 1, 0, -1):
            j = self.int(0, i)
            out[i], out[j] = out[j], out[i]
        return np.array(out, dtype=np.uint32)


class EpochSampler:
    def __init__(self, size, seed=0, state=None):
        if state is not None:
            size, epoch, cursor = state['size'], state['epoch'], state['cursor']
            if not (isinstance(cursor, int) and 0 <= cursor < size):
                raise ValueError(f'sampler state: cursor {cursor} outside 0..{size - 1}')
            self.rng = Random.from_state(state['epochRng'])
        else:
            epoch, cursor = 0, 0
            self.rng = Random(seed)
        self.size = size
        self.epoch_rng = self.rng.state()
        self.order = self.rng.permutation(size)
        self.epoch, self.cursor = epoch, cursor

    def next(self, count):
        out = np.empty(count, dtype=np.uint32)
        for i in range(count):
            out[i] = self.order[self.cursor]
            self.cursor += 1
            if self.cursor == self.size:
                self.epoch += 1
                self.cursor = 0
                self.epoch_rng = self.rng.state()
                self.order = self.rng.permutation(self.size)
        return out

    def state(self):
        return {'size': self.size, 'epoch': self.epoch, 'cursor': self.cursor, 'epochRng': list(self.epoch_rng)}


def data_seed(seed):
    return (imul(seed ^ 0x5BD1E995, 0x27D4EB2D) + 0x165667B1) & M32


class Batch:
    def __init__(self, inputs, targets, mask, lengths=None, classify=False):
        self.inputs = inputs  # u32 [B, N]
        self.targets = targets  # u32 [B * N]; classification: [B], one class per sequence
        self.mask = mask  # f32 [B * N] or None (always None for classification)
        self.lengths = lengths  # classification: u32 [B] real tokens before the right padding, or None (full)
        self.classify = classify
        self.batch, self.seq = inputs.shape

    def rows(self, lo, hi):
        """Sequences lo..hi-1 (a data-parallel shard)."""
        if self.classify:
            return Batch(self.inputs[lo:hi], self.targets[lo:hi], None, None if self.lengths is None else self.lengths[lo:hi], True)
        n = self.seq
        m = None if self.mask is None else self.mask[lo * n:hi * n]
        return Batch(self.inputs[lo:hi], self.targets[lo * n:hi * n], m)


def copy_batch(rng, batch, max_len, symbols):
    lo, hi = max_len // 4, (max_len - 1) // 2
    x = np.zeros((batch, max_len), dtype=np.uint32)
    t = np.zeros((batch, max_len), dtype=np.uint32)
    mask = np.zeros((batch, max_len), dtype=np.float32)
    lengths = np.zeros(batch, dtype=np.uint32)
    for b in range(batch):
        n = rng.int(lo, hi)
        lengths[b] = n
        for i in range(n):
            s = rng.int(1, symbols)
            x[b, i] = s
            x[b, n + 1 + i] = s
        t[b, :-1] = x[b, 1:]
        mask[b, n:2 * n] = 1
    return Batch(x, t.reshape(-1), mask.reshape(-1)), lengths


class CopyStream:
    def __init__(self, task, seed):
        self.task = task
        self.seq = task['maxLen']
        self.rng = Random(data_seed(seed))
        self.held_out, self.held_lengths = copy_batch(Random(COPY_HELDOUT_SEED), task['heldOut'], task['maxLen'], task['symbols'])

    def next(self, batch):
        return copy_batch(self.rng, batch, self.task['maxLen'], self.task['symbols'])[0]

    def eval_batches(self, batch):
        h = self.held_out
        return [h.rows(b0, min(b0 + batch, h.batch)) for b0 in range(0, h.batch, batch)]

    def state(self):
        return {'kind': 'copy', 'rng': self.rng.state()}

    def restore(self, s):
        if s.get('kind') != 'copy':
            raise ValueError(f"data state is for {s.get('kind')}, this run trains the copy task")
        self.rng = Random.from_state(s['rng'])


def mqar_batch(rng, batch, task):
    """MQAR sequences (src/tasks/mqar.ts makeMqarBatch, the same draw order): P distinct keys by a
    partial Fisher-Yates shuffle of 1..K, P values in K+1..K+V, then Q distinct pair indices; the
    queries follow the pairs, each followed by its answer; the mask marks the queries."""
    L, P, Q, K, V = task['maxLen'], task['pairs'], task['queries'], task['keys'], task['values']
    if 2 * P + 2 * Q > L or P > K or Q > P:
        raise ValueError(f'MQAR: {P} pairs, {Q} queries and {K} keys do not fit length {L}')
    x = np.zeros((batch, L), dtype=np.uint32)
    t = np.zeros((batch, L), dtype=np.uint32)
    mask = np.zeros((batch, L), dtype=np.float32)
    for b in range(batch):
        pool = list(range(1, K + 1))
        for i in range(P):
            j = rng.int(i, K - 1)
            pool[i], pool[j] = pool[j], pool[i]
        vals = [K + rng.int(1, V) for _ in range(P)]
        for i in range(P):
            x[b, 2 * i], x[b, 2 * i + 1] = pool[i], vals[i]
        idx = list(range(P))
        for i in range(Q):
            j = rng.int(i, P - 1)
            idx[i], idx[j] = idx[j], idx[i]
        for i in range(Q):
            at = 2 * P + 2 * i
            x[b, at], x[b, at + 1] = pool[idx[i]], vals[idx[i]]
            mask[b, at] = 1
        t[b, :-1] = x[b, 1:]
    return Batch(x, t.reshape(-1), mask.reshape(-1))


class MqarStream:
    def __init__(self, task, seed):
        self.task = task
        self.seq = task['maxLen']
        self.rng = Random(data_seed(seed))
        self.held_out = mqar_batch(Random(MQAR_HELDOUT_SEED), task['heldOut'], task)

    def next(self, batch):
        return mqar_batch(self.rng, batch, self.task)

    def eval_batches(self, batch):
        h = self.held_out
        return [h.rows(b0, min(b0 + batch, h.batch)) for b0 in range(0, h.batch, batch)]

    def state(self):
        return {'kind': 'mqar', 'rng': self.rng.state()}

    def restore(self, s):
        if s.get('kind') != 'mqar':
            raise ValueError(f"data state is for {s.get('kind')}, this run trains MQAR")
        self.rng = Random.from_state(s['rng'])


def parse_mnist_bin(data):
    if len(data) < 24 or data[:4] != b'MNST':
        raise ValueError('not an mnist-10k.bin file (magic MNST; built by scripts/build-mnist.mjs)')
    version, count, rows, cols, _ = np.frombuffer(data[4:24], dtype='<u4')
    if version != 1:
        raise ValueError(f'mnist-10k.bin format version {version}, this reader knows 1')
    n = int(count) * int(rows) * int(cols)
    if len(data) != 24 + n + int(count):
        raise ValueError(f'mnist-10k.bin: {len(data)} bytes, expected {24 + n + int(count)}')
    return np.frombuffer(data[24:24 + n], dtype=np.uint8).reshape(int(count), int(rows), int(cols))


def parse_idx_images(data):
    if data[:2] == b'\x1f\x8b':
        data = gzip.decompress(data)
    if len(data) < 16 or data[0] != 0 or data[1] != 0 or data[2] != 8 or data[3] != 3:
        raise ValueError('not an IDX file of unsigned-byte images (magic 0x00000803)')
    count, rows, cols = (int(v) for v in np.frombuffer(data[4:16], dtype='>u4'))
    if len(data) < 16 + count * rows * cols:
        raise ValueError(f'IDX images: {count}x{rows}x{cols} need {count * rows * cols} bytes of pixels; the file is truncated')
    return np.frombuffer(data[16:16 + count * rows * cols], dtype=np.uint8).reshape(count, rows, cols)


def load_images(source):
    path = MNIST_BIN if source == 'embedded' else source
    if not os.path.exists(path):
        hint = 'build it with `node scripts/build-mnist.mjs`' if source == 'embedded' else 'the run was trained on this IDX file'
        raise FileNotFoundError(f'{path} not found: {hint}')
    with open(path, 'rb') as f:
        data = f.read()
    return parse_mnist_bin(data) if source == 'embedded' else parse_idx_images(data)


def downsample(images, factor):
    c, r, w = images.shape
    area = factor * factor
    s = images.reshape(c, r // factor, factor, w // factor, factor).astype(np.int64).sum(axis=(2, 4))
    return ((s + area // 2) // area).astype(np.uint8)


class MnistStream:
    def __init__(self, task, seed, images=None):
        self.task = task
        imgs = load_images(task['source']) if images is None else images
        count, rows, cols = imgs.shape
        if rows != cols or rows % task['resolution']:
            raise ValueError(f"cannot downsample {rows}x{cols} images to {task['resolution']}x{task['resolution']}")
        test_count = min(MNIST_TEST_COUNT, max(1, count // 10))
        order = Random(MNIST_SPLIT_SEED).permutation(count)
        train, test = imgs[order[:count - test_count]], imgs[order[count - test_count:]]
        f = rows // task['resolution']
        if f > 1:
            train, test = downsample(train, f), downsample(test, f)
        if task['subset'] is not None and task['subset'] < len(train):
            train = train[:task['subset']]
        if task['testImages'] < len(test):
            test = test[:task['testImages']]
        self.train = train.reshape(len(train), -1)
        self.test = test.reshape(len(test), -1)
        self.seq = self.train.shape[1] - 1
        self.sampler = EpochSampler(len(self.train), data_seed(seed))

    @staticmethod
    def _seq(pix):
        return Batch(pix[:, :-1].astype(np.uint32), pix[:, 1:].astype(np.uint32).reshape(-1), None)

    def next(self, batch):
        return self._seq(self.train[self.sampler.next(batch)])

    def eval_batches(self, batch):
        return [self._seq(self.test[i:i + batch]) for i in range(0, len(self.test), batch)]

    def state(self):
        return {'kind': 'mnist', 'sampler': self.sampler.state()}

    def restore(self, s):
        if s.get('kind') != 'mnist':
            raise ValueError(f"data state is for {s.get('kind')}, this run trains MNIST generation")
        if s['sampler']['size'] != len(self.train):
            raise ValueError(f"data state covers {s['sampler']['size']} training images, this dataset has {len(self.train)} after split and subset")
        self.sampler = EpochSampler(0, state=s['sampler'])


def make_stream(cfg):
    t = cfg['task']
    if t['kind'] == 'copy':
        return CopyStream(t, cfg['seed'])
    if t['kind'] == 'mqar':
        return MqarStream(t, cfg['seed'])
    if t['kind'] in ('listops', 'images'):
        from .classify_data import ImagesStream, ListOpsStream
        return ListOpsStream(t, cfg['seed']) if t['kind'] == 'listops' else ImagesStream(t, cfg['seed'])
    return MnistStream(t, cfg['seed'])
