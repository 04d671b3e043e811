"""Export helpers: torch -> ONNX (torch 1.13 and 2.x), contract checks, and runs through onnxruntime-node."""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import onnx
import torch

HERE = Path(__file__).resolve().parent.parent
REPO_ROOT = HERE.parent.parent
CONTRACT_PATH = REPO_ROOT / 'src' / 'pipeline' / 'hairfast' / 'graphs.contract.json'
RUN_ORT = HERE / 'run_ort.mjs'
DEFAULT_OPSET = 17

ONNX_DTYPES = {
    onnx.TensorProto.FLOAT: 'float32', onnx.TensorProto.FLOAT16: 'float16', onnx.TensorProto.INT64: 'int64',
    onnx.TensorProto.INT32: 'int32', onnx.TensorProto.UINT8: 'uint8', onnx.TensorProto.BOOL: 'bool',
}
NP_DTYPES = {'float32': np.float32, 'float16': np.float16, 'int64': np.int64, 'int32': np.int32, 'uint8': np.uint8,
             'bool': np.bool_}
TORCH_DTYPES = {'float32': torch.float32, 'float16': torch.float16, 'int64': torch.int64, 'int32': torch.int32,
                'uint8': torch.uint8, 'bool': torch.bool}


def load_contract(path: Path = CONTRACT_PATH) -> dict:
    with open(path, encoding='utf8') as f:
        return json.load(f)


def export_onnx(module: torch.nn.Module, inputs: tuple, input_names: list[str], output_names: list[str], path: Path,
                opset: int = DEFAULT_OPSET, dynamic_axes: dict | None = None) -> Path | None:
    """torch.onnx.export with the TorchScript exporter on every torch version (2.x defaults to dynamo on new ones).

    A model over protobuf's 2 GB (the `swap` composite) is written with its weights in one external file,
    `<path>.data` next to it (torch writes one file per tensor; they are gathered here); returns that file, else None."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kwargs = dict(input_names=input_names, output_names=output_names, opset_version=opset, do_constant_folding=True)
    if dynamic_axes:
        kwargs['dynamic_axes'] = dynamic_axes
    if 'dynamo' in inspect.signature(torch.onnx.export).parameters:
        kwargs['dynamo'] = False
    with tempfile.TemporaryDirectory(prefix='hairfast-export-', dir=str(path.parent)) as tmp:
        traced = Path(tmp) / path.name
        with torch.no_grad():
            torch.onnx.export(module, inputs, str(traced), **kwargs)
        if len(list(Path(tmp).iterdir())) == 1:
            shutil.move(str(traced), str(path))
            return None
        model = onnx.load(str(traced))  # reads the per-tensor files
        return save_onnx(model, path, external=True)


# protobuf cannot serialise a message over 2 GiB; the margin leaves room for the graph's nodes and attributes
EXTERNAL_DATA_BYTES = 2**31 - 2**26


def payload_bytes(model: onnx.ModelProto) -> int:
    """Bytes of tensor data held in the model itself: initializers and Constant nodes' values."""
    total = sum(len(i.raw_data) for i in model.graph.initializer)
    for node in model.graph.node:
        if node.op_type == 'Constant':
            total += sum(len(a.t.raw_data) for a in node.attribute if a.name == 'value')
    return total


def save_onnx(model: onnx.ModelProto, path: Path, external: bool | None = None) -> Path | None:
    """Writes `model` to `path`. A model whose tensors pass protobuf's 2 GB (the `swap` composite and its fp16
    variant) is written with its weights in one file, `<path>.data` next to it, where onnxruntime looks for it;
    returns that file, else None. `external` forces either way.

    Writing external data moves the tensors' bytes out of `model` (onnx clears them after writing): read nothing from
    its weights afterwards."""
    if external is None:
        external = payload_bytes(model) > EXTERNAL_DATA_BYTES
    data = path.with_name(path.name + '.data')
    if data.exists():
        data.unlink()  # onnx appends to an existing file
    if not external:
        onnx.save(model, str(path))
        return None
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=data.name, size_threshold=1024)
    return data if data.exists() else None  # no tensor over 1 KB: nothing went out


def symbolic_axes(graph: dict) -> dict:
    """torch.onnx dynamic_axes for a contract graph's symbolic dims ({} for the split graphs, which are static)."""
    axes = {}
    for spec in graph['inputs'] + graph['outputs']:
        named = {i: d for i, d in enumerate(spec['shape']) if isinstance(d, str)}
        if named:
            axes[spec['name']] = named
    return axes


def stamp_output_shapes(path: Path, graph: dict) -> None:
    """Write the contract's static output shapes where tracing left symbolic dims (e.g. after reshape(-1, ...)).

    Only symbolic dims are replaced; a conflicting static dim is left for contract_mismatches to report, and
    running the graph (export.py --check, the tests) confirms the real shapes."""
    model = onnx.load(str(path), load_external_data=False)
    changed = False
    for v, want in zip(model.graph.output, graph['outputs']):
        dims = v.type.tensor_type.shape.dim
        if len(dims) != len(want['shape']):
            continue
        for d, size in zip(dims, want['shape']):
            if not d.HasField('dim_value') and isinstance(size, int):
                d.ClearField('dim_param')
                d.dim_value = size
                changed = True
    if changed:
        onnx.save(model, str(path))


def tensor_specs(model: onnx.ModelProto, which: str) -> list[dict]:
    values = model.graph.input if which == 'inputs' else model.graph.output
    initializers = {i.name for i in model.graph.initializer}
    specs = []
    for v in values:
        if v.name in initializers:
            continue
        t = v.type.tensor_type
        shape = [d.dim_value if d.HasField('dim_value') else d.dim_param for d in t.shape.dim]
        specs.append({'name': v.name, 'dtype': ONNX_DTYPES.get(t.elem_type, str(t.elem_type)), 'shape': shape})
    return specs


def contract_mismatches(model_path: Path, graph: dict, float_dtype: str = 'float32') -> list[str]:
    """Differences between an exported file and its contract entry (names, order, dtypes, shapes); [] when it fits."""
    model = onnx.load(str(model_path), load_external_data=False)
    problems = []
    for which in ('inputs', 'outputs'):
        want = [dict(s, dtype=float_dtype if s['dtype'] == 'float32' else s['dtype']) for s in graph[which]]
        got = tensor_specs(model, which)
        if [s['name'] for s in got] != [s['name'] for s in want]:
            problems.append(f"{which}: expected names {[s['name'] for s in want]} but found {[s['name'] for s in got]}")
            continue
        for w, g in zip(want, got):
            if w['dtype'] != g['dtype']:
                problems.append(f"{which} {w['name']}: expected dtype {w['dtype']} but found {g['dtype']}")
            if list(w['shape']) != list(g['shape']):
                problems.append(f"{which} {w['name']}: expected shape {w['shape']} but found {g['shape']}")
    return problems


def _run_ort_python(ort, model_path: Path, feeds: dict[str, np.ndarray], threads: int):
    import time
    opts = ort.SessionOptions()
    if threads > 0:
        opts.intra_op_num_threads = threads
    session = ort.InferenceSession(str(model_path), opts, providers=['CPUExecutionProvider'])
    t0 = time.perf_counter()
    outs = session.run(None, feeds)
    ms = (time.perf_counter() - t0) * 1000
    return {o.name: v for o, v in zip(session.get_outputs(), outs)}, ms


def run_ort(model_path: Path, feeds: dict[str, np.ndarray], threads: int = 0) -> tuple[dict[str, np.ndarray], float]:
    """Run a graph on onnxruntime's CPU EP: Python onnxruntime where installed, else onnxruntime-node (Debian has
    no Python onnxruntime); returns (outputs by name, session.run milliseconds)."""
    if os.environ.get('HAIRFAST_ORT', '') != 'node':
        try:
            import onnxruntime as ort
        except ImportError:
            ort = None
        if ort is not None:
            return _run_ort_python(ort, model_path, feeds, threads)
    node = shutil.which('node')
    if node is None:
        raise RuntimeError('node is not on PATH: the exporter runs graphs through onnxruntime-node')
    with tempfile.TemporaryDirectory(prefix='hairfast-ort-') as tmp:
        specs = []
        for i, (name, arr) in enumerate(feeds.items()):
            arr = np.ascontiguousarray(arr)
            file = f'in_{i}.bin'
            arr.tofile(os.path.join(tmp, file))
            dtype = {np.dtype(v): k for k, v in NP_DTYPES.items()}[arr.dtype]
            specs.append({'name': name, 'dtype': dtype, 'shape': list(arr.shape), 'file': file})
        with open(os.path.join(tmp, 'inputs.json'), 'w') as f:
            json.dump(specs, f)
        env = dict(os.environ, ORT_THREADS=str(threads))
        proc = subprocess.run([node, str(RUN_ORT), str(model_path), tmp], capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f'onnxruntime-node failed on {model_path}: {proc.stderr.strip()[-2000:]}')
        with open(os.path.join(tmp, 'outputs.json')) as f:
            meta = json.load(f)
        outputs = {}
        for o in meta['outputs']:
            raw = np.fromfile(os.path.join(tmp, o['file']), dtype=NP_DTYPES[o['dtype']])
            outputs[o['name']] = raw.reshape(o['shape'])
        return outputs, float(meta['run_ms'])


def feeds_of(spec: dict, tensors) -> dict[str, np.ndarray]:
    """The contract inputs of a graph as onnxruntime feeds, from tensors in input order."""
    return {s['name']: t.detach().cpu().numpy() for s, t in zip(spec['inputs'], tensors)}


def output_errors(spec: dict, got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> dict:
    """Per contract output: the number of labels that differ (int masks), or the max-abs difference, whether the
    result is finite and the reference's largest magnitude (float outputs)."""
    row = {}
    for s in spec['outputs']:
        g = got[s['name']]
        w = np.asarray(want[s['name']]).reshape(g.shape)
        if s['dtype'] == 'int64':
            row[s['name']] = {'mismatched_labels': int((g != w).sum()), 'of': int(g.size)}
        else:
            row[s['name']] = {'max_abs': float(np.abs(g.astype(np.float64) - w.astype(np.float64)).max()),
                              'finite': bool(np.isfinite(g).all()), 'ref_max_abs_value': float(np.abs(w).max())}
    return row


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()
