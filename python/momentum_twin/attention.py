"""The three attention kinds of src/engine/ops/attention.ts in PyTorch, phi = elu + 1 (MATH.md 1-4):
softmax; linear; momentum, causal as the O(N) chunked scan of MATH.md section 9 (carrying (S, m),
never an N x N matrix) and non-causal as eq. (14). Autograd gives the backward. Also two O(N^2)
references (the closed form (13)/(14)) and the recurrence (12), for the tests."""
import math

import torch

DEFAULT_CHUNK = 32


def phi(x):
    # elu(x) + 1, written so that neither branch overflows (no inf * 0 in the backward).
    return torch.where(x > 0, x + 1, torch.exp(torch.clamp(x, max=0)))


def momentum_weight(beta, d):
    """W(d) = sum_{s=0}^{d} beta^s = (1 - beta^(d+1)) / (1 - beta), d a float64 tensor."""
    if beta == 0:
        return torch.ones_like(d)
    return (1 - beta ** (d + 1)) / (1 - beta)


def softmax_attention(q, k, v, causal):
    s = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    if causal:
        n = q.shape[-2]
        s = s.masked_fill(torch.ones(n, n, dtype=torch.bool, device=q.device).triu(1), float('-inf'))
    return torch.softmax(s, dim=-1) @ v


def momentum_causal(q, k, v, beta, gamma, chunk=DEFAULT_CHUNK):
    """q, k [B, H, N, D], v [B, H, N, Dv] -> [B, H, N, Dv] by the chunked scan (MATH.md 9)."""
    B, H, N, D = q.shape
    E = v.shape[-1]
    C = chunk
    fq, fk = phi(q), phi(k)
    z = torch.cumsum(fk, dim=-2)  # plain prefix sums of phi(k)
    den = (fq * z).sum(-1, keepdim=True)
    pad = (-N) % C
    if pad:
        fq = torch.nn.functional.pad(fq, (0, 0, 0, pad))
        fk = torch.nn.functional.pad(fk, (0, 0, 0, pad))  # padded keys add nothing
        v = torch.nn.functional.pad(v, (0, 0, 0, pad))
    NC = (N + pad) // C
    fq = fq.reshape(B, H, NC, C, D)  # [B, H, NC, C, D]
    fk = fk.reshape(B, H, NC, C, D)  # [B, H, NC, C, D]
    vc = v.reshape(B, H, NC, C, E)  # [B, H, NC, C, Dv]
    f64 = dict(dtype=torch.float64, device=q.device)
    t = torch.arange(C, **f64)
    lag = t[:, None] - t[None, :]
    w = torch.where(lag >= 0, momentum_weight(beta, lag.clamp(min=0)), torch.zeros((), **f64)).to(q.dtype)  # [C, C]
    coef = (beta * (1 - beta ** (t + 1)) / (1 - beta) if beta > 0 else torch.zeros(C, **f64)).to(q.dtype)  # [C]
    w_end = w[C - 1]  # W(C-1-j): each key's weight in the state after the chunk
    decay = (beta ** (C - 1 - t) if beta > 0 else (t == C - 1).to(torch.float64)).to(q.dtype)  # beta^(C-1-j)
    intra = ((fq @ fk.transpose(-1, -2)) * w) @ vc  # [B, H, NC, C, E]
    s_add = torch.einsum('bhcjd,j,bhcje->bhcde', fk, w_end, vc)  # [B, H, NC, D, E]
    m_add = torch.einsum('bhcjd,j,bhcje->bhcde', fk, decay, vc)
    S = q.new_zeros(B, H, D, E)  # [B, H, D, Dv] carried state
    m = q.new_zeros(B, H, D, E)  # [B, H, D, Dv] carried momentum
    inter = []
    beta_c = beta ** C
    for c in range(NC):
        inter.append(fq[:, :, c] @ S - gamma * coef[:, None] * (fq[:, :, c] @ m))
        S = S - gamma * coef[C - 1] * m + gamma * s_add[:, :, c]
        m = beta_c * m - m_add[:, :, c]
    num = gamma * intra + torch.stack(inter, dim=2)
    return num.reshape(B, H, NC * C, E)[:, :, :N] / den  # [B, H, N, Dv]


def momentum_noncausal(q, k, v, beta, gamma):
    """Eq. (14): key j (0-based) weighted by W(N-1-j) for every query."""
    N = q.shape[-2]
    fq, fk = phi(q), phi(k)
    w = momentum_weight(beta, torch.arange(N - 1, -1, -1, dtype=torch.float64, device=q.device)).to(q.dtype)
    state = torch.einsum('bhjd,j,bhje->bhde', fk, w, v)
    return gamma * (fq @ state) / (fq * fk.sum(-2, keepdim=True)).sum(-1, keepdim=True)


def attention(kind, q, k, v, causal, beta=None, gamma=None, chunk=DEFAULT_CHUNK):
    if kind == 'softmax':
        return softmax_attention(q, k, v, causal)
    if kind == 'linear':
        beta, gamma = 0.0, 1.0
    elif kind != 'momentum':
        raise ValueError(f'attention kind must be softmax, linear or momentum; got {kind!r}')
    if not (0 <= beta < 1):
        raise ValueError(f'momentum beta must be in [0, 1) (beta >= 1 diverges); got {beta}')
    if not gamma > 0:
        raise ValueError(f'momentum gamma (step size) must be > 0; got {gamma}')
    return momentum_causal(q, k, v, beta, gamma, chunk) if causal else momentum_noncausal(q, k, v, beta, gamma)


def momentum_closed(q, k, v, beta, gamma, causal):
    """O(N^2) reference: the closed forms (13) and (14) with explicit weights."""
    N = q.shape[-2]
    fq, fk = phi(q), phi(k)
    i = torch.arange(N, dtype=torch.float64)
    if causal:
        lag = i[:, None] - i[None, :]
        w = torch.where(lag >= 0, momentum_weight(beta, lag.clamp(min=0)), torch.zeros(()))
        mask = (lag >= 0).to(q.dtype)
    else:
        w = momentum_weight(beta, (N - 1 - i))[None, :].expand(N, N)
        mask = torch.ones(N, N, dtype=q.dtype)
    a = fq @ fk.transpose(-1, -2)
    return gamma * ((a * w.to(q.dtype)) @ v) / (a * mask).sum(-1, keepdim=True)


def momentum_recurrent(q, k, v, beta, gamma):
    """The RNN form (12), token by token (causal)."""
    B, H, N, D = q.shape
    fq, fk = phi(q), phi(k)
    S = q.new_zeros(B, H, D, v.shape[-1])
    m = torch.zeros_like(S)
    z = q.new_zeros(B, H, D)
    out = []
    for i in range(N):
        m = beta * m - fk[:, :, i, :, None] * v[:, :, i, None, :]
        S = S - gamma * m
        z = z + fk[:, :, i]
        out.append((fq[:, :, i, None, :] @ S)[:, :, 0] / (fq[:, :, i] * z).sum(-1, keepdim=True))
    return torch.stack(out, dim=2)
