"""src/engine/optim.ts in PyTorch: Adam (L2 in the gradient), AdamW and RAdam (decoupled decay;
the rectified step from rho_t > 5, as torch.optim.RAdam and the authors' code), clipping by the
global norm with min(1, clip / (norm + 1e-6)), one step count, and the learning-rate schedules."""
import math

import torch

BETA1, BETA2, EPS = 0.9, 0.999, 1e-8
CLIP_EPS = 1e-6
RADAM_RHO_THRESHOLD = 5


def check_schedule(s):
    kind = s.get('kind')
    what = f"lr schedule '{kind}'"
    if not (isinstance(s.get('lr'), (int, float)) and s['lr'] > 0):
        raise ValueError(f"{what}: lr must be a finite number > 0, got {s.get('lr')}")
    if kind not in ('constant', 'step', 'cosine', 'linear'):
        raise ValueError(f'{what}: unknown kind (use constant, step, cosine, linear)')


def lr_at(s, step):
    """The learning rate of update number `step` (0-based)."""
    warmup = s.get('warmup', 0) or 0
    ramp = (step + 1) / warmup if step < warmup else 1
    if s['kind'] == 'constant':
        return s['lr'] * ramp
    if s['kind'] == 'step':
        reached = sum(1 for m in s['milestones'] if step >= m)
        return s['lr'] * s['factor'] ** reached * ramp
    if step < warmup:
        return s['lr'] * ramp
    progress = min(1, (step - warmup) / (s['total'] - warmup))
    if s['kind'] == 'linear':  # straight from lr at the end of warm-up to minLr at `total`
        return s['lr'] + (s['minLr'] - s['lr']) * progress
    return s['minLr'] + (s['lr'] - s['minLr']) * 0.5 * (1 + math.cos(math.pi * progress))


def radam_rectifier(t):
    rho_inf = 2 / (1 - BETA2) - 1
    b2t = BETA2 ** t
    rho = rho_inf - 2 * t * b2t / (1 - b2t)
    if not rho > RADAM_RHO_THRESHOLD:
        return None
    return math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))


class Optimizer:
    def __init__(self, params, kind, weight_decay=0.0, clip_norm=None):
        if kind not in ('adam', 'adamw', 'radam'):
            raise ValueError(f'optimizer must be adam, adamw or radam; got {kind}')
        self.params = list(params)
        self.kind, self.wd, self.clip = kind, weight_decay, clip_norm
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.step_count = 0

    @torch.no_grad()
    def grad_norm(self):
        return math.sqrt(sum(float((p.grad.double() ** 2).sum()) for p in self.params if p.grad is not None))

    @torch.no_grad()
    def step(self, lr, norm=None):
        """One update; returns the global gradient norm before clipping (pass it if known)."""
        norm = self.grad_norm() if norm is None else norm
        scale = min(1.0, self.clip / (norm + CLIP_EPS)) if self.clip else 1.0
        t = self.step_count + 1
        bc1, bc2 = 1 - BETA1 ** t, 1 - BETA2 ** t
        rect = radam_rectifier(t) if self.kind == 'radam' else None
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            g = p.grad * scale
            if self.kind == 'adam':
                g = g + self.wd * p
            else:
                p.mul_(1 - lr * self.wd)
            m.mul_(BETA1).add_(g, alpha=1 - BETA1)
            v.mul_(BETA2).addcmul_(g, g, value=1 - BETA2)
            if self.kind != 'radam':
                p.sub_(lr * (m / bc1) / (torch.sqrt(v / bc2) + EPS))
            elif rect is not None:
                p.sub_(lr * rect * (m / bc1) * math.sqrt(bc2) / (torch.sqrt(v) + EPS))
            else:
                p.sub_(lr * (m / bc1))
        self.step_count = t
        return norm
