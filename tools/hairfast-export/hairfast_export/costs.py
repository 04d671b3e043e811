"""Parameter and multiply-accumulate counts of an exported ONNX graph (from its initializers and inferred shapes)."""
from __future__ import annotations

import re
from math import prod

import onnx
from onnx import numpy_helper, shape_inference


def params(model: onnx.ModelProto) -> int:
    return int(sum(prod(i.dims) for i in model.graph.initializer))


def _shapes(model: onnx.ModelProto) -> dict[str, list[int]]:
    inferred = shape_inference.infer_shapes(model, data_prop=True)
    shapes = {}
    for v in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        dims = [d.dim_value if d.HasField('dim_value') else 0 for d in v.type.tensor_type.shape.dim]
        shapes[v.name] = dims
    for i in model.graph.initializer:
        shapes[i.name] = list(i.dims)
    return shapes


def gmac(model: onnx.ModelProto) -> float:
    return gmac_counted(model)[0]


def gmac_counted(model: onnx.ModelProto) -> tuple[float, int]:
    """Conv, ConvTranspose, MatMul, Gemm and Einsum MACs in units of 1e9 (other ops are cheap by comparison), and
    how many such nodes ONNX shape inference left without shapes (then the figure is a lower bound)."""
    shapes = _shapes(model)
    total = 0
    unknown = 0
    for node in model.graph.node:
        if node.op_type in ('Conv', 'ConvTranspose'):
            x, w = shapes.get(node.input[0]), shapes.get(node.input[1])
            y = shapes.get(node.output[0])
            if not x or not w or not y or 0 in x or 0 in y:
                unknown += 1
                continue
            if node.op_type == 'Conv':
                total += prod(y) * prod(w[1:])
            else:
                total += prod(x) * prod(w[1:])
        elif node.op_type in ('MatMul', 'Gemm'):
            a, b = shapes.get(node.input[0]), shapes.get(node.input[1])
            y = shapes.get(node.output[0])
            if not a or not y or 0 in a or 0 in y:
                unknown += 1
                continue
            trans_a = any(att.name == 'transA' and att.i for att in node.attribute)
            k = a[-2] if trans_a and len(a) >= 2 else a[-1]
            total += prod(y) * k
        elif node.op_type == 'Einsum':
            eq = next(att.s.decode() for att in node.attribute if att.name == 'equation')
            lhs = eq.split('->')[0].split(',')
            sizes = {}
            for term, name in zip(lhs, node.input):
                dims = shapes.get(name) or []
                for ch, d in zip(re.sub(r'[^a-z]', '', term), dims):
                    sizes[ch] = max(sizes.get(ch, 0), d)
            total += prod(sizes.values())
    return total / 1e9, unknown


ELEM_BYTES = {onnx.TensorProto.FLOAT: 4, onnx.TensorProto.FLOAT16: 2, onnx.TensorProto.INT64: 8,
              onnx.TensorProto.INT32: 4, onnx.TensorProto.UINT8: 1, onnx.TensorProto.BOOL: 1,
              onnx.TensorProto.DOUBLE: 8}


def weight_bytes(model: onnx.ModelProto) -> int:
    """Bytes of the initializers (what a session holds resident for the weights)."""
    return int(sum(prod(i.dims) * ELEM_BYTES.get(i.data_type, 4) for i in model.graph.initializer))


def memory_figures(model: onnx.ModelProto, shapes: dict[str, list[int]]) -> dict[str, int]:
    """The manifest's `weightBytes` and `activationBytes` of a graph."""
    return {'weightBytes': weight_bytes(model), 'activationBytes': activation_peak_bytes(model, shapes)}


def activation_peak_bytes(model: onnx.ModelProto, shapes: dict[str, list[int]]) -> int:
    """Largest total size of the tensors alive at once when the nodes run in file order: a tensor lives from its
    producer to its last consumer; graph inputs and outputs count, weights do not (see weight_bytes).

    `shapes` are the real shapes of one run (fp16.probe on the fp32 graph); a converted graph's casts take the shape
    of the tensor they cast. An estimate of what an execution provider's arena holds for one run: onnxruntime plans in
    a similar order but fuses nodes and reuses buffers in place, so it usually needs less."""
    from .fp16 import float_tensor_types

    types = float_tensor_types(model)

    def size(name: str) -> int:
        base = name
        while base not in shapes and '/' in base:
            base = base.rsplit('/', 1)[0]  # "<tensor>/to_fp16", "<output>/fp16"
        return prod(shapes.get(base, [0])) * ELEM_BYTES.get(types.get(name, onnx.TensorProto.FLOAT), 4)

    initializers = {i.name for i in model.graph.initializer}
    # tensors computed from weights alone (Identity of a shared parameter, Cast of a constant...) are folded into
    # weights when the session is created: they are not activations
    constant = set(initializers)
    for node in model.graph.node:
        if all(not name or name in constant for name in node.input):
            constant.update(node.output)
    nodes = [n for n in model.graph.node if not all(o in constant for o in n.output if o)]
    last_use: dict[str, int] = {}
    for idx, node in enumerate(nodes):
        for name in node.input:
            last_use[name] = idx
    for o in model.graph.output:
        last_use[o.name] = len(nodes)
    live = {i.name: size(i.name) for i in model.graph.input if i.name not in initializers}
    current = peak = sum(live.values())
    for idx, node in enumerate(nodes):
        for name in node.output:
            if name:
                live[name] = size(name)
                current += live[name]
        peak = max(peak, current)
        for name in set(node.input) | set(node.output):
            if name in live and name not in constant and last_use.get(name, -1) <= idx:
                current -= live.pop(name)
    return int(peak)
