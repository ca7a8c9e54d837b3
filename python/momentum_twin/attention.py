"""The three attention kinds of src/engine/ops/attention.ts in PyTorch, phi = elu + 1 (MATH.md 1-4):
softmax; linear; momentum, causal as the O(N) chunked scan of MATH.md section 9 (carrying (S, m),
never an N x N matrix) and non-causal as eq. (14). Non-causal attention takes key-padding lengths
(the encoder's right-padded batches): example b's keys past lengths[b] get no weight, eq. (14) uses
N_b = lengths[b], and its padding rows are 0 (so they pass no gradient), as the engine's. Autograd
gives the backward. Also two O(N^2) references (the closed form (13)/(14)) and the recurrence (12),
for the tests."""
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


def valid_positions(lengths, n, device):
    """bool [B, N]: position j is a real token of example b (j < lengths[b])."""
    return torch.arange(n, device=device)[None, :] < lengths.to(device)[:, None]


def check_lengths(lengths, batch, n):
    if lengths.shape != (batch,):
        raise ValueError(f'attention: lengths must be [{batch}] for a batch of {batch}; got {list(lengths.shape)}')
    if len(lengths) and (int(lengths.min()) < 1 or int(lengths.max()) > n):
        raise ValueError(f'attention: lengths must lie in 1..{n}; got {lengths.tolist()}')


def softmax_attention(q, k, v, causal, lengths=None):
    s = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    n = q.shape[-2]
    if causal:
        s = s.masked_fill(torch.ones(n, n, dtype=torch.bool, device=q.device).triu(1), float('-inf'))
    if lengths is None:
        return torch.softmax(s, dim=-1) @ v
    valid = valid_positions(lengths, n, q.device)  # [B, N]
    s = s.masked_fill(~valid[:, None, None, :], float('-inf'))
    return (torch.softmax(s, dim=-1) @ v) * valid[:, None, :, None].to(q.dtype)


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


def momentum_noncausal(q, k, v, beta, gamma, lengths=None):
    """Eq. (14): key j (0-based) weighted by W(N-1-j) for every query; with lengths, N_b = lengths[b]
    for example b, its padding keys weigh nothing and its padding rows are 0."""
    N = q.shape[-2]
    fq, fk = phi(q), phi(k)
    if lengths is None:
        w = momentum_weight(beta, torch.arange(N - 1, -1, -1, dtype=torch.float64, device=q.device)).to(q.dtype)
        state = torch.einsum('bhjd,j,bhje->bhde', fk, w, v)
        return gamma * (fq @ state) / (fq * fk.sum(-2, keepdim=True)).sum(-1, keepdim=True)
    lag = lengths.to(q.device, torch.float64)[:, None] - 1 - torch.arange(N, dtype=torch.float64, device=q.device)  # [B, N]
    valid = lag >= 0
    w = torch.where(valid, momentum_weight(beta, lag.clamp(min=0)), torch.zeros((), dtype=torch.float64, device=q.device)).to(q.dtype)
    state = torch.einsum('bhjd,bj,bhje->bhde', fk, w, v)  # [B, H, D, Dv]
    z = torch.einsum('bhjd,bj->bhd', fk, valid.to(q.dtype))  # [B, H, D]: the real keys' phi sums
    out = gamma * (fq @ state) / (fq * z[:, :, None, :]).sum(-1, keepdim=True)
    return out * valid[:, None, :, None].to(q.dtype)


def attention(kind, q, k, v, causal, beta=None, gamma=None, chunk=DEFAULT_CHUNK, lengths=None):
    """q, k [B, H, N, D], v [B, H, N, Dv] -> [B, H, N, Dv]; lengths: long [B] in 1..N (non-causal only)."""
    if lengths is not None:
        if causal:
            raise ValueError('attention: key-padding lengths are for non-causal attention (the encoder)')
        check_lengths(lengths, q.shape[0], q.shape[-2])
    if kind == 'softmax':
        return softmax_attention(q, k, v, causal, lengths)
    if kind == 'linear':
        beta, gamma = 0.0, 1.0
    elif kind != 'momentum':
        raise ValueError(f'attention kind must be softmax, linear or momentum; got {kind!r}')
    if not (0 <= beta < 1):
        raise ValueError(f'momentum beta must be in [0, 1) (beta >= 1 diverges); got {beta}')
    if not gamma > 0:
        raise ValueError(f'momentum gamma (step size) must be > 0; got {gamma}')
    return momentum_causal(q, k, v, beta, gamma, chunk) if causal else momentum_noncausal(q, k, v, beta, gamma, lengths)


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
