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
