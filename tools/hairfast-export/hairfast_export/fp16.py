"""fp32 ONNX graph -> half-precision graph with the same float32 inputs and outputs.

Why on the ONNX graph and not by tracing `module.half()`: tracing in half needs half kernels on the tracing device
(torch 1.x has no CPU half conv) and every trace-time constant must follow the module's dtype; converting the
traced fp32 graph works on any machine, for official and random weights alike, and the conversion is testable here.

- Weights, constants and activations become float16. The graph keeps float32 inputs and outputs (a Cast after each
  input, before each output), so the TypeScript runtime feeds and reads both precisions the same way.
- A node stays float32 when a tensor it reads or writes exceeded `limit` in magnitude on calibration inputs (fp16
  tops out at 65504; the margin leaves room for real inputs larger than the calibration ones), or when its op type
  or name is listed in `keep_ops` / `keep_nodes`. Casts are inserted where precisions meet.
- Inputs that an op's schema fixes at float32 (Resize's roi and scales) are never converted.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, shape_inference

from .onnx_io import save_onnx

FP16_MAX = 65504.0
DEFAULT_LIMIT = 8192.0
FLOAT = TensorProto.FLOAT
HALF = TensorProto.FLOAT16
# (op_type -> input positions) whose type the op schema fixes at float32
FLOAT32_INPUTS = {'Resize': {1, 2}, 'Upsample': {1}}
ABSMAX_SUFFIX = '__absmax'
SHAPE_SUFFIX = '__shape'


@dataclass
class Fp16Report:
    """What the conversion did: nodes run in each precision, the ones kept at fp32 and why, clipped weights."""
    fp16_nodes: int = 0
    fp32_nodes: int = 0
    casts: int = 0
    kept: dict[str, str] = field(default_factory=dict)
    clipped_values: int = 0

    def as_dict(self) -> dict:
        return {'fp16_nodes': self.fp16_nodes, 'fp32_nodes': self.fp32_nodes, 'casts': self.casts,
                'kept_fp32': dict(list(self.kept.items())[:20]), 'kept_fp32_count': len(self.kept),
                'clipped_values': self.clipped_values}


def _stripped(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy without large initializer payloads: enough for type and shape inference, light enough to copy."""
    light = onnx.ModelProto()
    graph = model.graph
    big = [i for i in graph.initializer if len(i.raw_data) > 4096 and i.data_type in (FLOAT, HALF)]
    payloads = [i.raw_data for i in big]
    try:
        for i in big:
            i.ClearField('raw_data')
        light.CopyFrom(model)
    finally:
        for i, data in zip(big, payloads):
            i.raw_data = data
    return light


def _copy_without(model: onnx.ModelProto, *fields: str) -> onnx.ModelProto:
    """A copy of the model whose graph has the named repeated fields empty, for the caller to fill: they are taken
    out of the original while it is copied, so the copy never holds the old nodes or weights (the original gets them
    back unchanged)."""
    graph = model.graph
    saved = {name: list(getattr(graph, name)) for name in fields}
    for name in fields:
        graph.ClearField(name)
    out = onnx.ModelProto()
    try:
        out.CopyFrom(model)
    finally:
        for name, items in saved.items():
            getattr(graph, name).extend(items)
    return out


def float_tensor_types(model: onnx.ModelProto) -> dict[str, int]:
    """Element type of every named tensor (inputs, initializers, node outputs) as far as ONNX inference knows it."""
    inferred = shape_inference.infer_shapes(_stripped(model))
    types: dict[str, int] = {}
    for v in list(inferred.graph.input) + list(inferred.graph.value_info) + list(inferred.graph.output):
        if v.type.tensor_type.elem_type:
            types[v.name] = v.type.tensor_type.elem_type
    for i in model.graph.initializer:
        types[i.name] = i.data_type
    for node in model.graph.node:
        if node.op_type == 'Constant':
            value = next((a.t for a in node.attribute if a.name == 'value'), None)
            if value is not None:
                types[node.output[0]] = value.data_type
    return types


def add_probe_outputs(model: onnx.ModelProto) -> tuple[onnx.ModelProto, list[str], list[str]]:
    """A copy of the model that also outputs the shape of every tensor a node produces, and max|t| (a scalar) of
    every float32 one. Returns (model, probed names, float32 names)."""
    types = float_tensor_types(model)
    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    probed, floats = [], []
    for node in list(graph.node):
        probed.extend(name for name in node.output if name)
    groups = []
    for name in probed:
        group = [helper.make_node('Shape', [name], [name + SHAPE_SUFFIX])]
        graph.output.append(helper.make_tensor_value_info(name + SHAPE_SUFFIX, TensorProto.INT64, [None]))
        if types.get(name) == FLOAT:
            floats.append(name)
            abs_name = f'{name}{ABSMAX_SUFFIX}/abs'
            group.append(helper.make_node('Abs', [name], [abs_name]))
            group.append(helper.make_node('ReduceMax', [abs_name], [name + ABSMAX_SUFFIX], keepdims=0))
            graph.output.append(helper.make_tensor_value_info(name + ABSMAX_SUFFIX, FLOAT, []))
        groups.append(group)
    # onnxruntime's default execution order is a depth-first walk back from the leaf nodes, the last-indexed leaf
    # first. Probes appended in graph order would all run after the graph's last node and keep every tensor alive
    # until then (the swap composite needed more than 24 GB); appended last-tensor-first, each tensor's probe runs
    # right after the node that makes it, and the probe run holds about what the plain graph holds.
    for group in reversed(groups):
        graph.node.extend(group)
    return out, probed, floats


def _has_subgraphs(model: onnx.ModelProto) -> bool:
    return any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
               for n in model.graph.node for a in n.attribute)


def _to_half_array(arr: np.ndarray, report: Fp16Report) -> np.ndarray:
    over = np.abs(arr) > FP16_MAX
    report.clipped_values += int(over.sum())
    return np.clip(arr, -FP16_MAX, FP16_MAX).astype(np.float16)


def convert_to_fp16(model: onnx.ModelProto, calibration: dict[str, float] | None = None, limit: float = DEFAULT_LIMIT,
                    keep_ops: set[str] | frozenset = frozenset(), keep_nodes: set[str] | frozenset = frozenset()
                    ) -> tuple[onnx.ModelProto, Fp16Report]:
    """Returns (converted model, report). The input model is not modified."""
    if _has_subgraphs(model):
        raise ValueError('Expected a graph without control-flow subgraphs for convert_to_fp16')
    calibration = calibration or {}
    model = _fold_weight_identities(model)
    types = float_tensor_types(model)
    is_float = lambda name: bool(name) and types.get(name) == FLOAT  # noqa: E731
    report = Fp16Report()
    graph = model.graph

    # 1. decide each node's precision
    precision: dict[int, int | None] = {}
    for idx, node in enumerate(graph.node):
        names = [t for t in list(node.input) + list(node.output) if is_float(t)]
        big = [t for t in names if calibration.get(t, 0.0) > limit]
        if node.op_type in keep_ops:
            report.kept[node.name or f'#{idx}'] = f'op {node.op_type} is kept at fp32'
        elif node.name in keep_nodes:
            report.kept[node.name] = 'listed'
        elif big:
            report.kept[node.name or f'#{idx}'] = f'{big[0]} reached {calibration[big[0]]:.4g} > {limit:g}'
        elif any(is_float(t) for t in node.output) or any(is_float(t) for t in node.input):
            precision[idx] = HALF
            continue
        else:
            precision[idx] = None  # no float tensor: nothing to convert
            continue
        precision[idx] = FLOAT

    # 2. which precision each consumer wants of each float tensor
    wants: dict[str, set[int]] = defaultdict(set)
    for idx, node in enumerate(graph.node):
        fixed = FLOAT32_INPUTS.get(node.op_type, set())
        for pos, name in enumerate(node.input):
            if is_float(name):
                wants[name].add(FLOAT if pos in fixed else precision[idx])
    # a Constant takes its consumers' precision (a Resize scale must not pass through fp16)
    for idx, node in enumerate(graph.node):
        if node.op_type == 'Constant' and is_float(node.output[0]) and precision[idx] == HALF:
            if wants.get(node.output[0], {HALF}) != {HALF}:
                precision[idx] = FLOAT
    output_names = {o.name for o in graph.output}

    # 3. weights: converted in place when every consumer wants fp16, duplicated when both precisions are wanted
    have: dict[str, int] = {i.name: FLOAT for i in graph.input if is_float(i.name)}
    new_inits = []
    for init in graph.initializer:
        if init.data_type != FLOAT:
            new_inits.append(init)
            continue
        want = wants.get(init.name, {FLOAT})
        if want == {HALF}:
            half = numpy_helper.from_array(_to_half_array(numpy_helper.to_array(init), report), init.name)
            new_inits.append(half)
            have[init.name] = HALF
        else:
            new_inits.append(init)
            have[init.name] = FLOAT
            if HALF in want:
                half = numpy_helper.from_array(_to_half_array(numpy_helper.to_array(init), report), init.name + '/fp16')
                new_inits.append(half)
                have[init.name + '/fp16'] = HALF
    casts: dict[tuple[str, int], str] = {}
    for name, dtype in list(have.items()):
        if name.endswith('/fp16') and name[:-5] in have:
            casts[(name[:-5], HALF)] = name

    # 4. rebuild the node list: casts where precisions meet, half attributes on fp16 nodes
    nodes = []
    renamed_outputs: dict[str, str] = {}

    def cast_of(name: str, to: int) -> str:
        if have.get(name) == to:
            return name
        key = (name, to)
        if key not in casts:
            casts[key] = f"{name}/to_{'fp16' if to == HALF else 'fp32'}"
            nodes.append(helper.make_node('Cast', [name], [casts[key]], to=to, name=casts[key]))
            report.casts += 1
        return casts[key]

    for idx, src in enumerate(graph.node):
        node = onnx.NodeProto()
        node.CopyFrom(src)
        p = precision[idx]
        fixed = FLOAT32_INPUTS.get(node.op_type, set())
        for pos, name in enumerate(node.input):
            if is_float(name):
                node.input[pos] = cast_of(renamed_outputs.get(name, name), FLOAT if pos in fixed else p)
        if p == HALF:
            report.fp16_nodes += 1
            _retype_attributes(node, report)
        elif p == FLOAT:
            report.fp32_nodes += 1
        for pos, name in enumerate(node.output):
            if not is_float(name):
                continue
            if name in output_names and p == HALF:
                inner = f'{name}/fp16'
                renamed_outputs[name] = inner
                node.output[pos] = inner
                have[inner] = HALF
            else:
                have[name] = p
        nodes.append(node)
    for name, inner in renamed_outputs.items():
        nodes.append(helper.make_node('Cast', [inner], [name], to=FLOAT, name=f'{name}/to_fp32'))
        have[name] = FLOAT
        report.casts += 1

    # value_info is dropped: its float types are stale (onnxruntime infers them again)
    out = _copy_without(model, 'node', 'initializer', 'value_info')
    out.graph.node.extend(nodes)
    out.graph.initializer.extend(new_inits)
    return out, report


def _fold_weight_identities(model: onnx.ModelProto) -> onnx.ModelProto:
    """Identity nodes that pass a weight on (torch exports shared parameters that way) are bypassed, so each weight
    takes the precision its real consumers want (a BatchNormalization kept at fp32 keeps fp32 statistics)."""
    weights = {i.name for i in model.graph.initializer}
    outputs = {o.name for o in model.graph.output}
    alias = {n.output[0]: n.input[0] for n in model.graph.node
             if n.op_type == 'Identity' and n.input[0] in weights and n.output[0] not in outputs}
    if not alias:
        return model
    out = _copy_without(model, 'node')
    for src in model.graph.node:
        if src.op_type == 'Identity' and src.output[0] in alias:
            continue
        node = out.graph.node.add()
        node.CopyFrom(src)
        for pos, name in enumerate(node.input):
            if name in alias:
                node.input[pos] = alias[name]
    return out


def _retype_attributes(node: onnx.NodeProto, report: Fp16Report) -> None:
    """Attributes that fix an output's type to float32 (Cast's `to`, Constant / ConstantOfShape values)."""
    for attr in node.attribute:
        if node.op_type == 'Cast' and attr.name == 'to' and attr.i == FLOAT:
            attr.i = HALF
        elif attr.type == onnx.AttributeProto.TENSOR and attr.t.data_type == FLOAT:
            half = numpy_helper.from_array(_to_half_array(numpy_helper.to_array(attr.t), report), attr.t.name)
            attr.t.CopyFrom(half)


@dataclass
class Probe:
    """One run of the fp32 graph: max|t| of each float32 tensor (the calibration) and each tensor's real shape."""
    absmax: dict[str, float]
    shapes: dict[str, list[int]]


def probe(model_path: Path, feeds: dict[str, np.ndarray], run) -> Probe:
    """Runs the fp32 graph once on `feeds` (`run(path, feeds)` runs a model file) and records every tensor."""
    import os
    import tempfile
    head = onnx.load(str(model_path), load_external_data=False)
    external = any(i.data_location == TensorProto.EXTERNAL for i in head.graph.initializer)
    if external:
        # weights in a .data file (swap): the probe graph is written next to the model and points at the same file,
        # so neither this process nor the disk holds a second copy of gigabytes of weights
        probing, probed, floats = add_probe_outputs(head)
        del head
        path = model_path.with_name(f'.probe-{os.getpid()}-{model_path.name}')
        try:
            onnx.save(probing, str(path))
            del probing
            outputs, _ = run(path, feeds)
        finally:
            path.unlink(missing_ok=True)
    else:
        del head
        model = onnx.load(str(model_path))
        probing, probed, floats = add_probe_outputs(model)
        del model
        with tempfile.TemporaryDirectory(prefix='hairfast-probe-') as tmp:
            path = Path(tmp) / 'probe.onnx'
            save_onnx(probing, path)
            del probing
            outputs, _ = run(path, feeds)
    return Probe(absmax={name: float(outputs[name + ABSMAX_SUFFIX]) for name in floats},
                 shapes={name: [int(d) for d in outputs[name + SHAPE_SUFFIX]] for name in probed})


def emulate_half(model: onnx.ModelProto) -> onnx.ModelProto:
    """The converted graph with every fp16 node computed in float32 between explicit roundings to fp16.

    onnxruntime's CPU EP has few fp16 kernels: it computes the others in float32 and drops the casts between two
    such nodes, so a chain like ReduceSum -> Div never rounds (or overflows) in between and looks better than a GPU
    run would. Here each node reads float32 copies of its fp16 inputs and its outputs are rounded to fp16 at once:
    fp16 storage with float32 arithmetic inside each op, as cuDNN/cuBLAS do with fp32 accumulation. Only for
    measuring fp16 error on a machine without a GPU; the graph that ships is the one convert_to_fp16 returns.
    """
    types = float_tensor_types(model)
    out = _copy_without(model, 'node')
    nodes = []
    widened: dict[str, str] = {}
    for src in model.graph.node:
        halves_in = [pos for pos, name in enumerate(src.input) if name and types.get(name) == HALF]
        halves_out = [pos for pos, name in enumerate(src.output) if name and types.get(name) == HALF]
        if src.op_type in ('Cast', 'Constant') or not (halves_in or halves_out):
            nodes.append(src)
            continue
        node = onnx.NodeProto()
        node.CopyFrom(src)
        for pos in halves_in:
            name = src.input[pos]
            if name not in widened:
                widened[name] = f'{name}/emulate_read_fp32'
                nodes.append(helper.make_node('Cast', [name], [widened[name]], to=FLOAT))
            node.input[pos] = widened[name]
        for pos in halves_out:
            node.output[pos] = f'{src.output[pos]}/emulate_fp32'
        if node.op_type == 'ConstantOfShape':
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.TENSOR and attr.t.data_type == HALF:
                    attr.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(attr.t).astype(np.float32), attr.t.name))
        nodes.append(node)
        for pos in halves_out:
            nodes.append(helper.make_node('Cast', [node.output[pos]], [src.output[pos]], to=HALF))
    out.graph.node.extend(nodes)
    return out
