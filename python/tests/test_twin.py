"""The twin on its own (CPU, small): attention's three forms agree, safetensors and checkpoints
refuse bad input with clear errors and leave nothing behind, and K processes under torchrun equal
one process on the same global batch. The cross-check against the engine is tests/twin/twin.test.ts."""
import copy
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from momentum_twin import checkpoint as ck
from momentum_twin import run as twin_run
from momentum_twin import safetensors as st
from momentum_twin.attention import momentum_causal, momentum_closed, momentum_noncausal, momentum_recurrent, softmax_attention
from momentum_twin.data import Random
from momentum_twin.jsjson import stringify
from momentum_twin.model import Transformer, dropout_mask, init_parameters

PY_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The playground's tiny copy preset (src/train/presets.ts), smaller still: 2 layers of 2 x 8.
CONFIG = {
    'name': 'twin test', 'variant': 'adaptive',
    'task': {'kind': 'copy', 'maxLen': 12, 'symbols': 4, 'heldOut': 8},
    'model': {'vocab': 5, 'maxSeq': 12, 'layers': 2, 'heads': 2, 'headDim': 8, 'ffn': 16, 'activation': 'relu',
              'dropout': 0, 'norm': 'post', 'position': 'sinusoidal', 'positionCombine': 'concat',
              'attention': {'kind': 'momentum', 'beta': 0.1, 'gamma': 0.6},
              'connection': {'kind': 'adaptive', 'gammaTilde': 0.99, 'delta': 0.001},
              'output': {'kind': 'softmax', 'classes': 5}},
    'optim': {'kind': 'radam', 'weightDecay': 0.01, 'clipNorm': 1, 'schedule': {'kind': 'constant', 'lr': 0.003}},
    'batch': 4, 'steps': 3, 'evalEvery': 3, 'seed': 7,
}


def qkv(n=45, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(2, 3, n, d, generator=g, dtype=torch.float64) for _ in range(3)]


@pytest.mark.parametrize('beta,gamma', [(0.0, 1.0), (0.1, 0.6), (0.6, 0.9), (0.99, 0.9)])
def test_chunked_momentum_equals_closed_form_and_recurrence(beta, gamma):
    q, k, v = qkv()
    chunked = momentum_causal(q, k, v, beta, gamma, chunk=16)  # 45 tokens: a partial last chunk
    assert torch.allclose(chunked, momentum_closed(q, k, v, beta, gamma, True), atol=1e-12, rtol=1e-10)
    assert torch.allclose(chunked, momentum_recurrent(q, k, v, beta, gamma), atol=1e-12, rtol=1e-10)
    assert torch.allclose(momentum_noncausal(q, k, v, beta, gamma), momentum_closed(q, k, v, beta, gamma, False), atol=1e-12, rtol=1e-10)


def test_momentum_at_beta_0_is_gamma_times_linear_and_precise_at_beta_099_long():
    q, k, v = qkv(n=40)
    assert torch.allclose(momentum_causal(q, k, v, 0.0, 0.6), 0.6 * momentum_causal(q, k, v, 0.0, 1.0), atol=1e-13)
    q, k, v = (t[:1, :1] for t in qkv(n=4096, d=4, seed=1))
    a32 = momentum_causal(q.float(), k.float(), v.float(), 0.99, 0.9, chunk=64).double()
    ref = momentum_closed(q, k, v, 0.99, 0.9, True)
    assert float((a32 - ref).abs().max() / ref.abs().max()) < 1e-5  # carrying (S, m): no cancellation


def test_softmax_attention_is_causal():
    q, k, v = qkv(n=9)
    out = softmax_attention(q, k, v, True)
    k2, v2 = k.clone(), v.clone()
    k2[:, :, 5:] += 1
    v2[:, :, 5:] -= 1
    assert torch.equal(out[:, :, :5], softmax_attention(q, k2, v2, True)[:, :, :5])


def test_dropout_mask_matches_philox_reference_values():
    # Philox4x32-10's published test vector (Random123 kat_vectors): counter 0, key 0.
    from momentum_twin.model import _philox
    w = _philox(np.array([0], dtype=np.uint64), np.array([0], dtype=np.uint64), 0, 0)[0]
    assert [int(x) for x in w] == [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]
    m = dropout_mask(1001, 0.25, 12345, 4 * 7 + 3)
    assert abs(m.mean() - 0.75) < 0.05
    assert np.array_equal(m[5:], dropout_mask(996, 0.25, 12345, 4 * 7 + 8))  # a function of the element's index


def test_safetensors_round_trip_and_errors(tmp_path):
    t = {'b': np.arange(6, dtype=np.float32).reshape(2, 3), 'a': np.array([1, 2], dtype=np.uint32), 'c': np.array([7], dtype=np.uint8)}
    data = st.encode(t, {'note': 'x "y" \u00e9'})
    back, meta = st.decode(data)
    assert meta == {'note': 'x "y" \u00e9'} and all(np.array_equal(back[k], t[k]) and back[k].dtype == t[k].dtype for k in t)
    assert st.encode(back, meta) == data
    corrupt = bytearray(data)
    corrupt[-3] ^= 1
    with pytest.raises(st.SafetensorsError, match='checksum mismatch'):
        st.decode(bytes(corrupt))
    with pytest.raises(st.SafetensorsError, match='truncated'):
        st.decode(data[:5])
    with pytest.raises(st.SafetensorsError, match='beyond'):
        st.decode(data[:-4])
    with pytest.raises(st.SafetensorsError, match='unsupported dtype'):
        st.encode({'x': np.zeros(2, dtype=np.float64)})


def write_checkpoint(path, cfg, tamper=None):
    params = init_parameters(cfg['model'], cfg['seed'])
    zeros = {n: np.zeros_like(a) for n, a in params.items()}
    if tamper:
        tamper(params, zeros)
    ck.save(str(path), cfg, 0, 0, {'kind': 'copy', 'rng': Random(1).state()}, 0.0, params, zeros, zeros)


def test_checkpoint_errors_name_the_problem(tmp_path):
    good = tmp_path / 'good.safetensors'
    write_checkpoint(good, CONFIG)
    assert ck.load(str(good))['config'] == CONFIG
    cases = {
        'unknown config': ({**CONFIG, 'model': {**CONFIG['model'], 'attention': {'kind': 'performer'}}}, None, "attention kind 'performer' is unknown"),
        'unknown field': ({**CONFIG, 'model': {**CONFIG['model'], 'experts': 4}}, None, "'experts', which the twin does not know"),
        'shape': (CONFIG, lambda p, z: p.__setitem__('head.bias', np.zeros(4, np.float32)), r"'param.head.bias' has shape \[4\], the model expects \[5\]"),
    }
    for name, (cfg, tamper, msg) in cases.items():
        path = tmp_path / f'{name}.safetensors'
        if tamper:
            write_checkpoint(path, cfg, tamper)
        else:
            write_checkpoint(path, CONFIG)
            t, meta = st.read(str(path))
            meta['config'] = stringify(cfg)
            st.write(str(path), t, meta)
        with pytest.raises(ck.CheckpointError, match=msg):
            ck.load(str(path))
    t, meta = st.read(str(good))
    t['param.head.bias'] = np.zeros(5, np.uint32)
    st.write(str(tmp_path / 'dtype.safetensors'), t, meta)
    with pytest.raises(ck.CheckpointError, match="'param.head.bias' is U32, expected F32"):
        ck.load(str(tmp_path / 'dtype.safetensors'))
    data = bytearray(good.read_bytes())
    data[-1] ^= 0xFF
    (tmp_path / 'corrupt.safetensors').write_bytes(bytes(data))
    with pytest.raises(ck.CheckpointError, match='checksum mismatch'):
        ck.load(str(tmp_path / 'corrupt.safetensors'))
    assert not list(tmp_path.glob('*.partial'))


def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys):
    corrupt = tmp_path / 'c.safetensors'
    write_checkpoint(corrupt, CONFIG)
    data = bytearray(corrupt.read_bytes())
    data[-2] ^= 1
    corrupt.write_bytes(bytes(data))
    out = tmp_path / 'out'
    assert twin_run.main(['--resume', str(corrupt), '--out', str(out)]) == 2
    assert 'checksum mismatch' in capsys.readouterr().err
    assert not out.exists()
    cfg_path = tmp_path / 'config.json'
    cfg_path.write_text(json.dumps({**CONFIG, 'optim': {**CONFIG['optim'], 'kind': 'lion'}}))
    assert twin_run.main(['--config', str(cfg_path), '--out', str(out)]) == 2
    assert "optimizer 'lion' is unknown to the twin" in capsys.readouterr().err
    assert not out.exists()


def torchrun(args, nproc):
    env = {**os.environ, 'PYTHONPATH': PY_DIR}
    return subprocess.run([sys.executable, '-m', 'momentum_twin.launch', '--standalone', f'--nproc_per_node={nproc}',
                           '-m', 'momentum_twin.run', *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize('dropout', [0.0, 0.2])
def test_two_processes_equal_one_on_the_global_batch(tmp_path, dropout):
    cfg = copy.deepcopy(CONFIG)
    cfg['model']['dropout'] = dropout
    cfg['batch'] = 5  # uneven shards: 2 and 3 sequences
    path = tmp_path / 'config.json'
    path.write_text(json.dumps(cfg))
    assert twin_run.main(['--config', str(path), '--out', str(tmp_path / 'one')]) == 0
    r = torchrun(['--config', str(path), '--out', str(tmp_path / 'two')], 2)
    assert r.returncode == 0, r.stderr[-3000:]
    one, _ = st.read(str(tmp_path / 'one' / 'last.safetensors'))
    two, meta = st.read(str(tmp_path / 'two' / 'last.safetensors'))
    assert json.loads(meta['step']) == 3 and set(one) == set(two)
    for n in one:
        assert np.allclose(one[n], two[n], rtol=1e-5, atol=1e-6), n
    m1 = [json.loads(x) for x in (tmp_path / 'one' / 'metrics.jsonl').read_text().split('\n') if x]
    m2 = [json.loads(x) for x in (tmp_path / 'two' / 'metrics.jsonl').read_text().split('\n') if x]
    assert abs(m1[-1]['trainLoss'] - m2[-1]['trainLoss']) < 1e-5 and abs(m1[-1]['testLoss'] - m2[-1]['testLoss']) < 1e-5


def test_nproc_larger_than_the_batch_is_refused(tmp_path):
    cfg = {**CONFIG, 'batch': 1}
    path = tmp_path / 'config.json'
    path.write_text(json.dumps(cfg))
    r = torchrun(['--config', str(path), '--out', str(tmp_path / 'out')], 2)
    assert r.returncode != 0
    assert '--nproc_per_node 2 is larger than the batch of 1' in r.stderr
    assert not (tmp_path / 'out').exists()


def test_model_runs_every_variant_and_head():
    for conn in ({'kind': 'residual'}, {'kind': 'momentum', 'betaTilde': 0.9, 'gammaTilde': 0.9}, CONFIG['model']['connection']):
        for out in ({'kind': 'softmax', 'classes': 5}, {'kind': 'dmol', 'mixtures': 2}):
            for att in ({'kind': 'softmax'}, {'kind': 'linear'}, {'kind': 'momentum', 'beta': 0.3, 'gamma': 0.8}):
                m = {**CONFIG['model'], 'connection': conn, 'output': out, 'attention': att, 'norm': 'pre', 'activation': 'gelu'}
                model = Transformer(m, init_parameters(m, 3))
                y, betas = model(torch.zeros(2, 7, dtype=torch.long))
                assert y.shape == (14, 5 if out['kind'] == 'softmax' else 6) and torch.isfinite(y).all()
                assert len(betas) == (1 if conn['kind'] == 'adaptive' else 0)


def test_a_page_export_starts_a_run_and_divergence_keeps_the_last_good_state(tmp_path, monkeypatch):
    export = tmp_path / 'runs.json'  # what the page's JSON export holds: a list of runs with their config
    export.write_text(json.dumps([{'id': 'r1', 'name': 'x', 'config': CONFIG, 'metrics': {}}]))
    monkeypatch.setattr(twin_run, 'GRAD_NORM_LIMIT', 1e-12)
    out = tmp_path / 'out'
    assert twin_run.main(['--config', str(export), '--out', str(out)]) == 3
    t, meta = st.read(str(out / 'last.safetensors'))
    assert json.loads(meta['step']) == 0 and json.loads(meta['optimizerStep']) == 0
    init = init_parameters(CONFIG['model'], CONFIG['seed'])
    assert all(np.array_equal(t[f'param.{n}'], a) for n, a in init.items())  # the bad step was not applied
    assert json.loads(meta['data']) != {'kind': 'copy', 'rng': Random(CONFIG['seed']).state()}
    assert not list(out.glob('*.partial'))


def test_numbers_and_json_are_written_as_javascript_writes_them():
    from momentum_twin.jsjson import js_number
    # Each right-hand side is what node prints for the left-hand side.
    cases = {1.0: '1', 0.003: '0.003', 1e-5: '0.00001', 1e-7: '1e-7', 1e-6: '0.000001', 1e21: '1e+21', 1e20: '100000000000000000000',
             2.5e-7: '2.5e-7', 1 / 3: '0.3333333333333333', -0.5: '-0.5', 5e-324: '5e-324', 1.7976931348623157e308: '1.7976931348623157e+308'}
    assert {x: js_number(x) for x in cases} == cases
    assert stringify({'a': [1, 2.5, None, True], 'b': 'é "q"\n'}) == '{"a":[1,2.5,null,true],"b":"é \\"q\\"\\n"}'
