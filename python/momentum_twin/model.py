"""src/model/transformer.ts in PyTorch: the same parameter names, shapes ([fan_in, fan_out]
weights, x W + b) and initialisation (the same seeded draws in the same order), post- or pre-norm,
the five variants' attention and connections, dropout masks bit for bit (Philox4x32-10, as
shaders/elementwise.wgsl), both output heads with their losses (src/engine/ops/loss.ts), and the
encoder classifier (`classify`: non-causal attention over each row's real tokens, mean or CLS
pooling, class logits)."""
import math

import numpy as np
import torch

from .attention import attention
from .data import Random

DROPOUT_SITE_STRIDE = 1 << 26
ADAPTIVE_NORM_EPS = 1e-6
SINUSOID_BASE = 10000.0
LN_EPS = 1e-5
DMOL_HALF_BIN = 1 / 255
DMOL_LOG_SCALE_MIN = -7.0
DMOL_CDF_DELTA_MIN = 1e-5
DMOL_LOG_HALF_LEVELS = math.log(127.5)


def width(m):
    return m['heads'] * m['headDim']


def token_rows(m):
    """The vocabulary, and the CLS token's row when an encoder pools by it (src/model/config.ts)."""
    return m['vocab'] + (1 if is_cls(m) else 0)


def is_cls(m):
    return (m.get('encoder') or {}).get('pooling') == 'cls'


def output_width(m):
    o = m['output']
    return o['classes'] if o['kind'] == 'softmax' else 3 * o['mixtures']


def parameter_shapes(m):
    """Every parameter's name and shape, in the order the playground creates (and draws) them."""
    d = width(m)
    concat = m['positionCombine'] == 'concat'
    tok = d // 2 if concat else d
    shapes = [('embed.token', [token_rows(m), tok], 'normal')]
    if m['position'] == 'learned':
        shapes.append(('embed.position', [m['maxSeq'], d - tok if concat else d], 'normal'))
    for l in range(m['layers']):
        p = f'layers.{l}'
        for name, fi, fo in [('attn.qkv', d, 3 * d), ('attn.proj', d, d), ('ffn.1', d, m['ffn']), ('ffn.2', m['ffn'], d)]:
            shapes += [(f'{p}.{name}.weight', [fi, fo], ('uniform', fi)), (f'{p}.{name}.bias', [fo], ('uniform', fi))]
        shapes += [(f'{p}.norm1.gain', [d], 'ones'), (f'{p}.norm1.bias', [d], 'zeros'),
                   (f'{p}.norm2.gain', [d], 'ones'), (f'{p}.norm2.bias', [d], 'zeros')]
    if m['norm'] == 'pre':
        shapes += [('final.norm.gain', [d], 'ones'), ('final.norm.bias', [d], 'zeros')]
    shapes += [('head.weight', [d, output_width(m)], ('uniform', d)), ('head.bias', [output_width(m)], ('uniform', d))]
    return shapes


def init_parameters(m, seed):
    """The playground's initial parameters for a model config and run seed, as float32 arrays."""
    rng = Random(seed)
    out = {}
    for name, shape, how in parameter_shapes(m):
        n = int(np.prod(shape))
        if how == 'ones':
            a = np.ones(n)
        elif how == 'zeros':
            a = np.zeros(n)
        elif how == 'normal':
            a = np.array([rng.normal() for _ in range(n)])
        else:
            bound = 1 / math.sqrt(how[1])
            a = np.array([(2 * rng.uniform() - 1) * bound for _ in range(n)])
        out[name] = a.astype(np.float32).reshape(shape)
    return out


# ---- dropout: Philox4x32-10 of (seed, element counter), kept where the word >= floor(p 2^32)

def _philox(c0, c1, k0, k1):
    M = np.uint64(0xFFFFFFFF)
    c0, c1 = c0.astype(np.uint64), c1.astype(np.uint64)
    c2 = np.zeros_like(c0)
    c3 = np.zeros_like(c0)
    k0, k1 = np.uint64(k0), np.uint64(k1)
    for _ in range(10):
        p0 = np.uint64(0xD2511F53) * c0
        p1 = np.uint64(0xCD9E8D57) * c2
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ k0), p1 & M, ((p0 >> np.uint64(32)) ^ c3 ^ k1), p0 & M
        k0 = (k0 + np.uint64(0x9E3779B9)) & M
        k1 = (k1 + np.uint64(0xBB67AE85)) & M
    return np.stack([c0, c1, c2, c3], axis=-1)


def dropout_mask(n, p, seed, offset):
    """Which of n elements from `offset` on dropout keeps: bool [n] (src/engine/cpu/elementwise.ts)."""
    e = np.arange(offset, offset + n, dtype=np.uint64)
    blocks = e // np.uint64(4)
    b0 = int(blocks[0]) if n else 0
    ub = np.arange(b0, (int(blocks[-1]) if n else b0) + 1, dtype=np.uint64)
    words = _philox(ub & np.uint64(0xFFFFFFFF), ub >> np.uint64(32), seed % (1 << 32), seed >> 32)
    w = words[(blocks - np.uint64(b0)).astype(np.int64), (e % np.uint64(4)).astype(np.int64)]
    return w >= np.uint64(math.floor(p * 2**32))


def dropout(x, p, seed, offset):
    keep = torch.from_numpy(dropout_mask(x.numel(), p, seed, offset)).reshape(x.shape).to(x.device)
    s = float(np.float32(1 / (1 - p))) if x.dtype == torch.float32 else 1 / (1 - p)
    return torch.where(keep, x * s, torch.zeros((), dtype=x.dtype, device=x.device))


def sinusoidal(n, dim, offset=0, dtype=torch.float32):
    pos = torch.arange(offset, offset + n, dtype=torch.float64)[:, None]
    j = torch.arange(dim, dtype=torch.float64)
    angle = pos * SINUSOID_BASE ** (-2 * torch.floor(j / 2) / dim)
    return torch.where(j % 2 == 0, torch.sin(angle), torch.cos(angle)).to(dtype)


def _norm(s):
    """sqrt of a sum of squares whose gradient at 0 is 0 (not NaN)."""
    pos = s > 0
    return torch.sqrt(torch.where(pos, s, torch.ones_like(s))) * pos


def adaptive_beta(g, gp, delta):
    """Eq. (18) per row, with src/engine/cpu/momentumConnection.ts's conventions at the clamps."""
    nd = _norm(((g - gp) ** 2).sum(-1))
    npv = _norm((gp ** 2).sum(-1))
    r = nd / torch.clamp(npv, min=ADAPTIVE_NORM_EPS)
    live = nd > 0
    raw = (1 - torch.sqrt(torch.where(live, r, torch.ones_like(r)))) ** 2
    top = 1 - delta
    ok = live & (raw <= top)
    return torch.where(ok, raw, torch.full_like(raw, top))


class Transformer(torch.nn.Module):
    def __init__(self, m, params=None, seed=1, dtype=torch.float32):
        super().__init__()
        self.cfg = m
        values = params if params is not None else init_parameters(m, seed)
        self.names = []
        for name, shape, _ in parameter_shapes(m):
            a = values[name]
            if list(a.shape) != shape:
                raise ValueError(f"parameter '{name}' has shape {list(a.shape)}, the model expects {shape}")
            self.register_parameter(name.replace('.', '_'), torch.nn.Parameter(torch.tensor(np.asarray(a), dtype=dtype)))
            self.names.append(name)
        # Rows of the global batch before this process's first sequence (data-parallel shards):
        # dropout masks are a function of the element's index in the global batch.
        self.dropout_row_offset = 0

    def named(self):
        """(playground name, parameter) in the playground's order."""
        return [(n, getattr(self, n.replace('.', '_'))) for n in self.names]

    def p(self, name):
        return getattr(self, name.replace('.', '_'))

    def forward(self, ids, train=False, dropout_seed=0, attend=None):
        """ids: long [B, N] -> (outputs [B * N, out], per-layer beta~ [B * N] (adaptive, layers 2..L)).
        `attend(l, q, k, v) -> out` replaces a layer's attention (the cross-check reads it)."""
        m = self.cfg
        if m.get('encoder'):
            raise ValueError('this model is an encoder classifier: call classify(), not forward()')
        B, N = ids.shape
        if N > m['maxSeq']:
            raise ValueError(f"sequence length {N} exceeds the model's maxSeq {m['maxSeq']}")
        x, betas = self.trunk(ids, train, dropout_seed, attend, True, None)
        return self.lin(x, 'head').reshape(B * N, output_width(m)), betas  # [B*N, out]

    def classify(self, ids, lengths=None, train=False, dropout_seed=0, attend=None):
        """The encoder (Transformer.classify): ids long [B, T] right-padded, lengths long [B] in 1..T
        (None: every row is full) -> (logits [B, classes], per-layer beta~ [B * N]), N = T plus the
        CLS token (id vocab, at position 0) when pooling by it."""
        m = self.cfg
        if not m.get('encoder'):
            raise ValueError('this model is a causal decoder: call forward(), not classify()')
        B, T = ids.shape
        cls = is_cls(m)
        N = T + (1 if cls else 0)
        if N > m['maxSeq']:
            raise ValueError(f"classify: a sequence of {T} tokens{' (and the CLS token)' if cls else ''} exceeds the model's maxSeq {m['maxSeq']}")
        if ids.numel() and (int(ids.max()) >= m['vocab'] or int(ids.min()) < 0):
            raise ValueError(f"classify: ids outside the vocabulary [0, {m['vocab']})")
        if lengths is not None:
            if lengths.shape != (B,):
                raise ValueError(f'classify: lengths hold {lengths.numel()} entries for a batch of {B}')
            if B and (int(lengths.min()) < 1 or int(lengths.max()) > T):
                raise ValueError(f'classify: lengths must lie in 1..{T}; got {lengths.tolist()}')
            if bool((lengths == T).all()):
                lengths = None  # as the engine: a full batch runs without a mask
        if cls:
            ids = torch.cat([torch.full((B, 1), m['vocab'], dtype=ids.dtype, device=ids.device), ids], dim=1)
        real = None if lengths is None else lengths + (1 if cls else 0)  # [B] real positions, CLS included
        x, betas = self.trunk(ids, train, dropout_seed, attend, False, real)  # [B, N, d]
        if cls:
            pooled = x[:, 0]
        elif real is None:
            pooled = x.mean(1)
        else:
            keep = (torch.arange(N, device=x.device)[None, :] < real[:, None]).to(x.dtype)  # [B, N]
            pooled = (x * keep[..., None]).sum(1) / real[:, None].to(x.dtype)
        return self.lin(pooled, 'head'), betas  # [B, classes]

    def lin(self, x, name):
        return x @ self.p(f'{name}.weight') + self.p(f'{name}.bias')

    def trunk(self, ids, train, dropout_seed, attend, causal, lengths):
        """Embedding, the layers and the final norm: ids long [B, N] -> x [B, N, d]."""
        m = self.cfg
        B, N = ids.shape
        d = width(m)
        H = m['heads']
        p = m['dropout'] if train else 0.0
        site = [0]

        def drop(x):
            if p == 0:
                return x
            y = dropout(x, p, dropout_seed, DROPOUT_SITE_STRIDE * site[0] + self.dropout_row_offset * d)
            site[0] += 1
            return y

        def norm(x, l, which):
            pre = f'layers.{l}.{which}' if l is not None else 'final.norm'
            return torch.nn.functional.layer_norm(x, (d,), self.p(f'{pre}.gain'), self.p(f'{pre}.bias'), LN_EPS)

        lin = self.lin

        tok = self.p('embed.token')[ids]  # [B, N, E]
        concat = m['positionCombine'] == 'concat'
        pdim = d - tok.shape[-1] if concat else d
        pos = self.p('embed.position')[:N] if m['position'] == 'learned' else sinusoidal(N, pdim, dtype=tok.dtype).to(tok.device)
        x = torch.cat([tok, pos.expand(B, N, pdim)], dim=-1) if concat else tok + pos  # [B, N, d]
        x = drop(x)
        a_cfg = m['attention']
        kind = a_cfg['kind']
        beta, gamma = (a_cfg['beta'], a_cfg['gamma']) if kind == 'momentum' else (None, None)
        c = m['connection']
        mv = None
        g_prev = None
        betas = []
        for l in range(m['layers']):
            pre = f'layers.{l}'
            a = norm(x, l, 'norm1') if m['norm'] == 'pre' else x
            qkv = lin(a, f'{pre}.attn.qkv').reshape(B, N, 3, H, m['headDim']).permute(2, 0, 3, 1, 4)  # [3, B, H, N, Dh]
            q, k, v = qkv[0], qkv[1], qkv[2]  # [B, H, N, Dh]
            heads = attend(l, q, k, v) if attend else attention(kind, q, k, v, causal, beta, gamma, lengths=lengths)  # [B, H, N, Dh]
            att = heads.permute(0, 2, 1, 3).reshape(B, N, d)  # [B, N, H*Dh]
            g = drop(lin(att, f'{pre}.attn.proj'))  # [B, N, d]
            if c['kind'] == 'residual':
                h = x + g
            elif c['kind'] == 'momentum' or g_prev is None:
                bt = c['betaTilde'] if c['kind'] == 'momentum' else 0.0
                mv = g if mv is None else bt * mv + g
                h = x + c['gammaTilde'] * mv
            else:
                bt = adaptive_beta(g, g_prev, c['delta'])
                mv = bt[..., None] * mv + g
                h = x + c['gammaTilde'] * mv
                betas.append(bt.reshape(-1))
            g_prev = g
            if m['norm'] == 'post':
                h = norm(h, l, 'norm1')
            f0 = norm(h, l, 'norm2') if m['norm'] == 'pre' else h
            hid = lin(f0, f'{pre}.ffn.1')  # [B, N, ffn]
            act = torch.relu(hid) if m['activation'] == 'relu' else torch.nn.functional.gelu(hid, approximate='tanh')
            x = h + drop(lin(act, f'{pre}.ffn.2'))
            if m['norm'] == 'post':
                x = norm(x, l, 'norm2')
        if m['norm'] == 'pre':
            x = norm(x, None, None)
        return x, betas


# ---- losses: per-row nll; the loss is sum_r m_r nll_r / max(sum_r m_r, 1)

def cross_entropy_nll(logits, targets):
    return torch.logsumexp(logits, -1) - logits.gather(1, targets[:, None])[:, 0]


def dmol_nll(params, targets):
    """Discretized mixture of logistics (PixelCNN++), as src/engine/cpu/loss.ts's dmolComponent."""
    K = params.shape[-1] // 3
    logits, mean, raw_ls = params[:, :K], params[:, K:2 * K], params[:, 2 * K:]
    ls = torch.clamp(raw_ls, min=DMOL_LOG_SCALE_MIN)
    inv = torch.exp(-ls)
    px = targets[:, None].to(params.dtype)
    c = px * (2 * DMOL_HALF_BIN) - 1 - mean
    plus, minus, mid = inv * (c + DMOL_HALF_BIN), inv * (c - DMOL_HALF_BIN), inv * c
    sp = torch.nn.functional.softplus
    delta = torch.where(mid > 0, torch.sigmoid(-minus) - torch.sigmoid(-plus), torch.sigmoid(plus) - torch.sigmoid(minus))
    big = delta > DMOL_CDF_DELTA_MIN
    inner = torch.where(big, torch.log(torch.where(big, delta, torch.ones_like(delta))),
                        mid - ls - 2 * sp(mid) - DMOL_LOG_HALF_LEVELS)
    lp = torch.where(px == 0, -sp(-plus), torch.where(px == 255, -sp(minus), inner))
    return torch.logsumexp(logits, -1) - torch.logsumexp(logits + lp, -1)


def row_nll(m, outputs, targets):
    return cross_entropy_nll(outputs, targets) if m['output']['kind'] == 'softmax' else dmol_nll(outputs, targets)


def masked_sum(nll, mask):
    """sum of m_r nll_r over rows with m_r != 0 (masked rows are skipped, not multiplied by 0)."""
    if mask is None:
        return nll.sum()
    return torch.where(mask != 0, nll * mask, torch.zeros_like(nll)).sum()
