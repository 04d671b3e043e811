"""fp32 ONNX graph -> a graph whose convolutions run in int8 (static quantization, QDQ form), same inputs/outputs.

Why by hand: onnxruntime's quantization tooling is a Python package that cannot be installed here (no PyPI, no
Debian package), and what it would do for these graphs is small: put QuantizeLinear/DequantizeLinear pairs around
the convolutions whose weights are constants. onnxruntime's graph optimizer then fuses each DQ → Conv → Q group
into one QLinearConv (uint8 activations, int8 weights), which on a CPU with VNNI runs the large-channel 3×3
convolutions of the decoders 2.8-4.4× faster than its fp32 kernels (measured on the 2-core EPYC, docs/performance.md).

- Weights: int8, symmetric, one scale per output channel. Bias: int32 at scale x_scale × w_scale (what QLinearConv
  requires). Activations: uint8, asymmetric, one scale per tensor, from the min/max each tensor reached on
  calibration inputs (the range always holds 0, so zero padding is exact).
- A tensor read by several convolutions, or written by one and read by the next, gets one Q/DQ pair with one scale:
  onnxruntime removes the redundant DQ → Q between two quantized convolutions.
- Convolutions whose weights are computed (StyleGAN's modulated convolutions), ConvTranspose (no int8 kernel on
  the CPU provider), convolutions named with a `keep` prefix and every other op stay float32; the contract's inputs
  and outputs stay float32.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .fp16 import _copy_without, _fold_weight_identities

MIN_SUFFIX = '__min'
MAX_SUFFIX = '__max'
UINT8_LEVELS = 255
INT8_MAX = 127


@dataclass
class Int8Report:
    """What the quantization did: convolutions run in int8, those kept in float32 and why."""
    int8_convs: int = 0
    kept: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {'int8_convs': self.int8_convs, 'kept_fp32_count': len(self.kept),
                'kept_fp32': dict(list(self.kept.items())[:20])}


def _constant_weights(model: onnx.ModelProto) -> dict[str, onnx.TensorProto]:
    weights = {i.name: i for i in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == 'Constant':
            value = next((a.t for a in node.attribute if a.name == 'value'), None)
            if value is not None:
                weights[node.output[0]] = value
    return weights


def _attr(node: onnx.NodeProto, name: str, default):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def quantizable_convs(model: onnx.ModelProto, keep: tuple[str, ...] = ()) -> tuple[list[onnx.NodeProto], dict[str, str]]:
    """The Conv nodes whose weight (and bias) are constants and whose name starts with none of `keep`, and why each
    other Conv is left in float32."""
    weights = _constant_weights(model)
    convs, kept = [], {}
    for node in model.graph.node:
        if node.op_type != 'Conv':
            continue
        if keep and node.name.startswith(keep):
            kept[node.name] = 'kept by name'
        elif node.input[1] not in weights:
            kept[node.name or node.output[0]] = 'computed weights'
        elif len(node.input) > 2 and node.input[2] and node.input[2] not in weights:
            kept[node.name or node.output[0]] = 'computed bias'
        else:
            convs.append(node)
    return convs, kept


def add_range_probes(model: onnx.ModelProto, names: list[str]) -> onnx.ModelProto:
    """A copy of the model that also outputs min and max (scalars) of each named float32 tensor."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    # appended last-tensor-first, as fp16.add_probe_outputs explains: each probe then runs right after the node
    # that makes its tensor, so the probe run holds no more than the plain run
    for name in reversed(names):
        for op, suffix in (('ReduceMin', MIN_SUFFIX), ('ReduceMax', MAX_SUFFIX)):
            graph.node.append(helper.make_node(op, [name], [name + suffix], keepdims=0))
            graph.output.append(helper.make_tensor_value_info(name + suffix, TensorProto.FLOAT, []))
    return out


def calibration_tensors(model: onnx.ModelProto, keep: tuple[str, ...] = ()) -> list[str]:
    """Every tensor a quantizable convolution reads or writes, in graph order, each once."""
    seen: dict[str, None] = {}
    for node in quantizable_convs(_fold_weight_identities(model), keep)[0]:
        seen.setdefault(node.input[0])
        seen.setdefault(node.output[0])
    return list(seen)


def calibrate(model_path: Path, feeds_list: list[dict[str, np.ndarray]], run,
              keep: tuple[str, ...] = ()) -> dict[str, tuple[float, float]]:
    """min/max of every tensor a quantizable convolution reads or writes, over runs of the fp32 graph on each of
    `feeds_list` (`run(path, feeds)` runs a model file). Weights in a .data file stay there (the probe graph is
    written next to the model and points at it)."""
    import os
    head = onnx.load(str(model_path), load_external_data=False)
    names = calibration_tensors(head, keep)
    probing = add_range_probes(head, names)
    del head
    path = model_path.with_name(f'.int8-probe-{os.getpid()}-{model_path.name}')
    ranges: dict[str, tuple[float, float]] = {}
    try:
        onnx.save(probing, str(path))
        del probing
        for feeds in feeds_list:
            outputs, _ = run(path, feeds)
            for name in names:
                lo, hi = float(outputs[name + MIN_SUFFIX]), float(outputs[name + MAX_SUFFIX])
                old = ranges.get(name)
                ranges[name] = (lo, hi) if old is None else (min(old[0], lo), max(old[1], hi))
    finally:
        path.unlink(missing_ok=True)
    return ranges


def activation_params(lo: float, hi: float) -> tuple[float, int]:
    """uint8 scale and zero point for values in [lo, hi]; the range is widened to hold 0."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / UINT8_LEVELS if hi > lo else 1.0
    zero_point = int(np.clip(round(-lo / scale), 0, UINT8_LEVELS))
    return scale, zero_point


def weight_params(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-output-channel symmetric int8 weights and their float32 scales."""
    absmax = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
    scale = np.where(absmax > 0, absmax / INT8_MAX, 1.0).astype(np.float32)
    q = np.clip(np.round(w / scale.reshape(-1, *([1] * (w.ndim - 1)))), -INT8_MAX, INT8_MAX).astype(np.int8)
    return q, scale


def quantize_convs(model: onnx.ModelProto, ranges: dict[str, tuple[float, float]],
                   keep: tuple[str, ...] = ()) -> tuple[onnx.ModelProto, Int8Report]:
    """The model with every quantizable Conv (none named with a prefix in `keep`) between Q/DQ pairs (see the module
    docstring). A Conv whose input or output has no calibrated range stays float32."""
    model = _fold_weight_identities(model)
    weights = _constant_weights(model)
    convs, kept = quantizable_convs(model, keep)
    report = Int8Report(kept=dict(kept))
    chosen = set()
    for node in convs:
        if node.input[0] in ranges and node.output[0] in ranges:
            chosen.add(id(node))
        else:
            report.kept[node.name or node.output[0]] = 'no calibrated range'
    new_inits: list[onnx.TensorProto] = []
    dequantized: dict[str, str] = {}  # float tensor -> the name of its Q/DQ round trip
    params: dict[str, tuple[str, str, float]] = {}

    def qparams(tensor: str) -> tuple[str, str, float]:
        if tensor not in params:
            scale, zp = activation_params(*ranges[tensor])
            s, z = f'{tensor}__qscale', f'{tensor}__qzero'
            new_inits.append(numpy_helper.from_array(np.array(scale, np.float32), s))
            new_inits.append(numpy_helper.from_array(np.array(zp, np.uint8), z))
            params[tensor] = (s, z, scale)
        return params[tensor]

    nodes: list[onnx.NodeProto] = []

    def round_trip(tensor: str) -> str:
        """Q → DQ of a float tensor that a quantized conv reads; one per tensor."""
        if tensor not in dequantized:
            s, z, _ = qparams(tensor)
            q, dq = f'{tensor}__q', f'{tensor}__dq'
            nodes.append(helper.make_node('QuantizeLinear', [tensor, s, z], [q], name=q))
            nodes.append(helper.make_node('DequantizeLinear', [q, s, z], [dq], name=dq))
            dequantized[tensor] = dq
        return dequantized[tensor]

    # outputs written by a quantized conv: the conv writes <name>__f32, a Q → DQ pair writes <name> again, so every
    # consumer (and a graph output of that name) reads the dequantized tensor unchanged
    for src in model.graph.node:
        if id(src) not in chosen:
            nodes.append(src)
            continue
        x, w_name, y = src.input[0], src.input[1], src.output[0]
        x_in = dequantized.get(x) or round_trip(x)
        _, _, x_scale = qparams(x)
        w = numpy_helper.to_array(weights[w_name]).astype(np.float32)
        wq, w_scale = weight_params(w)
        base = src.name or y
        wq_name, ws_name, wz_name = f'{base}__wq', f'{base}__wscale', f'{base}__wzero'
        new_inits += [numpy_helper.from_array(wq, wq_name), numpy_helper.from_array(w_scale, ws_name),
                      numpy_helper.from_array(np.zeros(w.shape[0], np.int8), wz_name)]
        nodes.append(helper.make_node('DequantizeLinear', [wq_name, ws_name, wz_name], [f'{base}__wdq'], axis=0))
        inputs = [x_in, f'{base}__wdq']
        if len(src.input) > 2 and src.input[2]:
            b = numpy_helper.to_array(weights[src.input[2]]).astype(np.float64)
            b_scale = (x_scale * w_scale.astype(np.float64)).astype(np.float32)
            bq = np.clip(np.round(b / b_scale), -2**31, 2**31 - 1).astype(np.int32)
            bq_name, bs_name, bz_name = f'{base}__bq', f'{base}__bscale', f'{base}__bzero'
            new_inits += [numpy_helper.from_array(bq, bq_name), numpy_helper.from_array(b_scale, bs_name),
                          numpy_helper.from_array(np.zeros(w.shape[0], np.int32), bz_name)]
            nodes.append(helper.make_node('DequantizeLinear', [bq_name, bs_name, bz_name], [f'{base}__bdq'], axis=0))
            inputs.append(f'{base}__bdq')
        conv = helper.make_node('Conv', inputs, [f'{y}__f32'], name=src.name)
        conv.attribute.extend(src.attribute)
        nodes.append(conv)
        s, z, _ = qparams(y)
        nodes.append(helper.make_node('QuantizeLinear', [f'{y}__f32', s, z], [f'{y}__q'], name=f'{y}__q'))
        nodes.append(helper.make_node('DequantizeLinear', [f'{y}__q', s, z], [y], name=f'{y}__dq'))
        dequantized[y] = y  # already the output of a Q/DQ pair: the next conv reads it as is
        report.int8_convs += 1
    used = {name for node in nodes for name in node.input}
    out = _copy_without(model, 'node', 'initializer', 'value_info')
    out.graph.node.extend(nodes)
    out.graph.initializer.extend([i for i in model.graph.initializer if i.name in used] +
                                 [i for i in new_inits if i.name in used])
    if not any(op.domain in ('', 'ai.onnx') and op.version >= 13 for op in out.opset_import):
        raise ValueError('per-channel DequantizeLinear needs opset 13 or later')
    return out, report
