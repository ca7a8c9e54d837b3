"""torchrun (python3 -m torch.distributed.run), with one fix for Debian 12's torch 1.13 under
Python 3.11: there Std.from_str('0') returns None (3.11 no longer iterates an IntFlag's zero
member), so torchrun's default --redirects 0 crashes before starting any process. Every argument
goes to torchrun unchanged; on newer torch this is plain torchrun.

    python3 -m momentum_twin.launch --nproc_per_node=K -m momentum_twin.run ..."""
import sys

try:
    from torch.distributed.elastic.multiprocessing import api
    from torch.distributed.run import main
except ImportError as e:
    sys.exit(f'error: the twin needs PyTorch ({e}); on Debian: apt-get install python3-torch python3-numpy libopenblas0-pthread')

_from_str = api.Std.from_str


def _fixed(vm):
    r = _from_str(vm)
    if r is None:
        return api.Std.NONE
    if isinstance(r, dict):
        return {k: (api.Std.NONE if v is None else v) for k, v in r.items()}
    return r


api.Std.from_str = staticmethod(_fixed)

if __name__ == '__main__':
    sys.argv[0] = 'torchrun'
    main()
