"""The twin's encoder on its own (CPU, small): key padding changes nothing an example sees (attention
and the classifier equal each example run alone), the linear schedule, ListOps values and config
errors, IDX images + labels checks, and an encoder run (metrics.jsonl, confusion.json, K = 2 under
torchrun equal to one process). The data and gradients against the engine: tests/twin/twin.test.ts."""
import copy
import gzip
import json

import numpy as np
import pytest
import torch

from momentum_twin import checkpoint as ck
from momentum_twin import run as twin_run
from momentum_twin import safetensors as st
from momentum_twin.attention import attention
from momentum_twin.classify_data import ImagesStream, check_listops, labelled_images, listops_example
from momentum_twin.data import Random
from momentum_twin.model import Transformer, init_parameters
from momentum_twin.optim import lr_at
from test_twin import torchrun

ENCODER = {
    'name': 'twin encoder test', 'variant': 'adaptive',
    'task': {'kind': 'listops', 'minLength': 5, 'maxLength': 16, 'maxDepth': 3, 'minArgs': 2, 'maxArgs': 4,
             'trainExamples': 30, 'testExamples': 9},
    'model': {'vocab': 16, 'maxSeq': 17, 'layers': 2, 'heads': 2, 'headDim': 4, 'ffn': 12, 'activation': 'gelu',
              'dropout': 0, 'norm': 'pre', 'position': 'learned', 'positionCombine': 'add',
              'attention': {'kind': 'momentum', 'beta': 0.3, 'gamma': 0.8},
              'connection': {'kind': 'adaptive', 'gammaTilde': 0.99, 'delta': 0.001},
              'output': {'kind': 'softmax', 'classes': 10}, 'encoder': {'pooling': 'cls'}},
    'optim': {'kind': 'adamw', 'weightDecay': 0.01, 'clipNorm': 1,
              'schedule': {'kind': 'linear', 'lr': 0.003, 'warmup': 2, 'total': 4, 'minLr': 0}},
    'batch': 5, 'steps': 4, 'evalEvery': 2, 'seed': 3,
}


@pytest.mark.parametrize('kind', ['softmax', 'linear', 'momentum'])
def test_padded_attention_is_each_example_alone_and_padding_gets_no_gradient(kind):
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(3, 2, 11, 4, generator=g, dtype=torch.float64, requires_grad=True) for _ in range(3))
    lengths = torch.tensor([11, 5, 1])
    out = attention(kind, q, k, v, False, 0.6, 0.9, lengths=lengths)
    for b, n in enumerate(lengths.tolist()):
        alone = attention(kind, q[b:b + 1, :, :n], k[b:b + 1, :, :n], v[b:b + 1, :, :n], False, 0.6, 0.9)
        assert torch.allclose(out[b:b + 1, :, :n], alone, atol=1e-13), (kind, b)
        assert (out[b, :, n:] == 0).all()
    out.sum().backward()
    for t in (q, k, v):
        assert (t.grad[1, :, 5:] == 0).all() and (t.grad[2, :, 1:] == 0).all()
    with pytest.raises(ValueError, match='lengths must lie in 1..11'):
        attention(kind, q, k, v, False, 0.6, 0.9, lengths=torch.tensor([12, 5, 1]))
    with pytest.raises(ValueError, match='non-causal'):
        attention(kind, q, k, v, True, 0.6, 0.9, lengths=lengths)


@pytest.mark.parametrize('pooling', ['mean', 'cls'])
def test_the_classifier_of_a_padded_batch_equals_each_example_alone(pooling):
    m = {**ENCODER['model'], 'encoder': {'pooling': pooling}, 'maxSeq': 17}
    model = Transformer(m, init_parameters(m, 2), dtype=torch.float64)
    ids = torch.randint(1, 16, (3, 9), generator=torch.Generator().manual_seed(0))
    lengths = torch.tensor([9, 4, 2])
    ids[1, 4:] = 0
    ids[2, 2:] = 7  # padding of any value
    logits, betas = model.classify(ids, lengths)
    assert logits.shape == (3, 10) and len(betas) == 1 and betas[0].shape == (3 * (10 if pooling == 'cls' else 9),)
    for b, n in enumerate(lengths.tolist()):
        alone, _ = model.classify(ids[b:b + 1, :n])
        assert torch.allclose(logits[b], alone[0], atol=1e-12), (pooling, b)
    assert model.p('embed.token').shape[0] == (17 if pooling == 'cls' else 16)  # the CLS row
    with pytest.raises(ValueError, match='call classify'):
        model(ids)
    with pytest.raises(ValueError, match='outside the vocabulary'):
        model.classify(ids + 16, lengths)


def test_linear_schedule_warms_up_then_decays_to_min_lr():
    s = {'kind': 'linear', 'lr': 0.01, 'warmup': 4, 'total': 10, 'minLr': 0.001}
    got = [lr_at(s, t) for t in range(12)]
    want = [0.0025, 0.005, 0.0075, 0.01] + [0.01 + (0.001 - 0.01) * (t - 4) / 6 for t in range(4, 10)] + [0.001, 0.001]
    assert np.allclose(got, want, rtol=0, atol=1e-15)


def test_listops_labels_are_the_expressions_values_and_bad_bounds_are_named():
    t = {**ENCODER['task'], 'maxDepth': 4, 'maxLength': 60}
    rng = Random(9)
    ops = {11: max, 12: min, 13: lambda a: int(np.median(a)), 14: lambda a: sum(a) % 10}

    def value(tokens, at=0):  # an independent reading of the prefix form
        if tokens[at] <= 10:
            return tokens[at] - 1, at + 1
        op, at, args = tokens[at], at + 1, []
        while tokens[at] != 15:
            x, at = value(tokens, at)
            args.append(x)
        return ops[op](args), at + 1

    for _ in range(200):
        tokens, label = listops_example(rng, t)
        assert 5 <= len(tokens) <= 60 and value(tokens) == (label, len(tokens))
    with pytest.raises(ValueError, match='no expression can reach minLength 500'):
        check_listops({**t, 'minLength': 500, 'maxLength': 600, 'maxDepth': 2})
    with pytest.raises(ValueError, match='minArgs 5 exceeds maxArgs 4'):
        check_listops({**t, 'minArgs': 5})


def test_listops_splits_are_cached_by_config_and_a_bad_cache_file_is_regenerated(tmp_path, monkeypatch):
    from momentum_twin import classify_data as cd
    monkeypatch.setenv('TWIN_CACHE_DIR', str(tmp_path))
    t = {**ENCODER['task'], 'trainExamples': 25}
    cd._splits.clear()
    fresh = cd.listops_splits(t)
    files = list(tmp_path.glob('listops-*.npz'))
    assert len(files) == 1 and not list(tmp_path.glob('*.partial'))
    cd._splits.clear()
    assert cd.listops_splits(t) == fresh  # read back
    files[0].write_bytes(b'not a cache')
    cd._splits.clear()
    assert cd.listops_splits(t) == fresh and files[0].stat().st_size > 20  # regenerated, rewritten
    cd._splits.clear()
    assert cd.listops_splits({**t, 'testExamples': 4})[1] == fresh[1][:4]  # another config, another file
    assert len(list(tmp_path.glob('listops-*.npz'))) == 2


def idx(dims, data, gz):
    raw = bytes([0, 0, 8, len(dims)]) + b''.join(d.to_bytes(4, 'big') for d in dims) + bytes(data)
    return gzip.compress(raw) if gz else raw


def test_idx_images_and_labels_are_checked_as_the_playground_checks_them(tmp_path):
    pix = np.arange(30 * 28 * 28, dtype=np.int64) % 251
    labels = np.arange(30) % 3
    (tmp_path / 'i.gz').write_bytes(idx([30, 28, 28], pix.astype(np.uint8), True))
    (tmp_path / 'l').write_bytes(idx([30], labels.astype(np.uint8), False))
    task = {'kind': 'images', 'resolution': 14, 'subset': 20, 'testImages': 2, 'source': str(tmp_path / 'i.gz'),
            'labels': str(tmp_path / 'l'), 'classes': 3}
    imgs, labs = labelled_images(task)
    assert imgs.shape == (30, 28, 28) and np.array_equal(labs, labels)
    s = ImagesStream(task, 1)
    b = s.next(4)
    assert b.inputs.shape == (4, 196) and b.lengths is None and set(b.targets.tolist()) <= {0, 1, 2}
    assert len(s.train) == 20 and len(s.test) == 2
    with pytest.raises(ValueError, match='label 2 of image 2 is outside the 2 classes 0..1'):
        ImagesStream({**task, 'classes': 2}, 1)
    (tmp_path / 'l29').write_bytes(idx([29], labels[:29].astype(np.uint8), False))
    with pytest.raises(ValueError, match='30 images but 29 labels'):
        labelled_images({**task, 'labels': str(tmp_path / 'l29')})
    with pytest.raises(ValueError, match='is it an images file'):
        labelled_images({**task, 'labels': task['source']})
    (tmp_path / 'short').write_bytes(idx([30, 28, 28], pix[:-5].astype(np.uint8), False))
    with pytest.raises(ValueError, match='5 bytes missing: truncated'):
        labelled_images({**task, 'source': str(tmp_path / 'short')})
    with pytest.raises(ValueError, match='needs task.labels'):
        labelled_images({**task, 'labels': None})
    with pytest.raises(ValueError, match='not a divisor'):
        ImagesStream({**task, 'resolution': 5}, 1)


def test_configs_the_twin_cannot_train_are_refused_by_name():
    authors = copy.deepcopy(ENCODER)
    authors['model']['attention']['weights'] = 'authors-code'
    with pytest.raises(ck.CheckpointError, match="weights 'authors-code' are the engine's alone"):
        ck.check_config(authors)
    no_encoder = copy.deepcopy(ENCODER)
    del no_encoder['model']['encoder']
    with pytest.raises(ck.CheckpointError, match='listops is a classification task: it needs model.encoder'):
        ck.check_config(no_encoder)
    bad_pool = copy.deepcopy(ENCODER)
    bad_pool['model']['encoder']['pooling'] = 'max'
    with pytest.raises(ck.CheckpointError, match='pooling must be mean or cls'):
        ck.check_config(bad_pool)


def test_an_encoder_run_writes_metrics_and_confusion_and_two_processes_equal_one(tmp_path):
    cfg = copy.deepcopy(ENCODER)
    cfg['model']['dropout'] = 0.2  # masks index the global batch, CLS positions included
    path = tmp_path / 'config.json'
    path.write_text(json.dumps(cfg))
    assert twin_run.main(['--config', str(path), '--out', str(tmp_path / 'one')]) == 0
    lines = [json.loads(x) for x in (tmp_path / 'one' / 'metrics.jsonl').read_text().split('\n') if x]
    assert [r['step'] for r in lines] == [2, 4]
    assert list(lines[0]) == ['step', 'wallSeconds', 'trainLoss', 'testLoss', 'tokensPerSec', 'lr', 'gradNorm', 'betaTilde', 'accuracy', 'trainAccuracy']
    assert lines[0]['lr'] == 0.003 and lines[1]['lr'] == 0.003 * (1 - 1 / 2)
    conf = json.loads((tmp_path / 'one' / 'confusion.json').read_text())
    assert conf['step'] == 4 and conf['rows'] == 'true class' and len(conf['matrix']) == 10
    assert sum(map(sum, conf['matrix'])) == 9 and conf['accuracy'] == sum(conf['matrix'][i][i] for i in range(10)) / 9
    assert conf['testLoss'] == lines[-1]['testLoss']
    r = torchrun(['--config', str(path), '--out', str(tmp_path / 'two')], 2)
    assert r.returncode == 0, r.stderr[-3000:]
    one, _ = st.read(str(tmp_path / 'one' / 'last.safetensors'))
    two, meta = st.read(str(tmp_path / 'two' / 'last.safetensors'))
    assert json.loads(meta['data'])['kind'] == 'listops'
    for n in one:
        assert np.allclose(one[n], two[n], rtol=1e-5, atol=1e-6), n
