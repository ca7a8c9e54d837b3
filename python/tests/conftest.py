import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
torch.set_num_threads(1)
os.environ['TWIN_CACHE_DIR'] = ''  # no ListOps split cache in ~/.cache from the tests (the cache's own test sets one)
