"""A PyTorch twin of the playground's transformer (src/model, src/train): the same parameters,
data, losses, optimizers and checkpoints, for runs that outgrow the browser (DDP under torchrun)."""
