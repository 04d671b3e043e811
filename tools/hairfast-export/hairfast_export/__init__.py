"""Export HairFastGAN (AIRI-Institute/HairFastGAN) as the ONNX graph split of src/pipeline/hairfast/graphs.contract.json.

The official repository is imported at run time from --src; nothing of it is vendored here. This package holds the
export-friendly replacements for the pieces that do not trace (see ops.py, stylegan.py, sean.py, clip_vit.py).
"""
