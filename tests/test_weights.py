"""Weights: the embedded model is joined once, verified, and converts to openai-whisper."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from pipeline.errors import ModelError
from pipeline.transcribe import weights


@pytest.fixture(scope="module")
def embedded() -> weights.ModelWeights:
    return weights.resolve("base", "faster-whisper")


def test_embedded_model_is_joined_and_verified(embedded: weights.ModelWeights) -> None:
    model_bin = embedded.path / "model.bin"
    assert embedded.format == "ctranslate2"
    assert model_bin.stat().st_size == 145_217_532
    assert embedded.sha256 == weights.EMBEDDED_SHA256
    assert embedded.sha256.startswith("d01c3014")
    for side_file in ("config.json", "tokenizer.json", "vocabulary.txt"):
        assert (embedded.path / side_file).is_file()


def test_embedded_model_lives_in_the_configured_cache(embedded: weights.ModelWeights) -> None:
    assert weights.cache_dir() in embedded.path.parents


def _parts(tmp_path: Path) -> tuple[list[Path], bytes]:
    parts = [tmp_path / "a.part1", tmp_path / "b.part2"]
    parts[0].write_bytes(b"whisper " * 1000)
    parts[1].write_bytes(b"weights " * 1000)
    return parts, parts[0].read_bytes() + parts[1].read_bytes()


def test_join_writes_the_concatenation(tmp_path: Path) -> None:
    parts, joined = _parts(tmp_path)
    target = tmp_path / "cache" / "model.bin"
    weights._join(parts, target, hashlib.sha256(joined).hexdigest(), len(joined))
    assert target.read_bytes() == joined


def test_join_with_wrong_checksum_leaves_no_file(tmp_path: Path) -> None:
    parts, joined = _parts(tmp_path)
    target = tmp_path / "cache" / "model.bin"
    with pytest.raises(ModelError, match="corrupt"):
        weights._join(parts, target, "0" * 64, len(joined))
    assert list(target.parent.iterdir()) == []  # neither the model nor a temporary file


def test_missing_part_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="missing part"):
        weights._join([tmp_path / "nope"], tmp_path / "model.bin", "0" * 64, 1)


def test_named_model_not_in_cache_fails_fast_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    started = time.monotonic()
    for engine in ("faster-whisper", "openai-whisper"):
        with pytest.raises(ModelError, match="'large-v3' is not available offline; give a local"):
            weights.resolve("large-v3", engine)
    assert time.monotonic() - started < 20  # never waits on a network


def test_local_ct2_directory(embedded: weights.ModelWeights) -> None:
    local = weights.resolve(str(embedded.path), "faster-whisper")
    assert local.format == "ctranslate2"
    assert local.path == embedded.path
    assert local.sha256 == weights.EMBEDDED_SHA256


def test_bad_local_paths(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not a Whisper model"):
        weights.resolve(str(tmp_path / "missing"), "faster-whisper")
    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(b"x")
    with pytest.raises(ModelError, match="CTranslate2 model directory"):
        weights.resolve(str(checkpoint), "faster-whisper")


def test_conversion_to_openai_whisper(embedded: weights.ModelWeights) -> None:
    torch = pytest.importorskip("torch")
    whisper_model = pytest.importorskip("whisper.model")
    converted = weights.resolve("base", "openai-whisper")
    assert converted.format == "openai"
    assert converted.path.suffix == ".pt"
    assert converted.sha256 == weights.EMBEDDED_SHA256  # identifies the same weights
    checkpoint = torch.load(converted.path, map_location="cpu", weights_only=True)
    assert checkpoint["dims"] == {
        "n_mels": 80, "n_audio_ctx": 1500, "n_audio_state": 512, "n_audio_head": 8,
        "n_audio_layer": 6, "n_vocab": 51865, "n_text_ctx": 448, "n_text_state": 512,
        "n_text_head": 8, "n_text_layer": 6,
    }  # fmt: skip
    model = whisper_model.Whisper(whisper_model.ModelDimensions(**checkpoint["dims"]))
    model.load_state_dict(checkpoint["model_state_dict"])  # strict: every name maps
    # The fused QKV projection was split in three: Q, K and V of Whisper's attention.
    ct2 = weights.read_ct2_variables(embedded.path / "model.bin")
    fused_qkv = ct2["decoder/layer_2/self_attention/linear_0/weight"]
    fused = torch.from_numpy(fused_qkv.astype("float32"))
    state = checkpoint["model_state_dict"]
    assert torch.equal(state["decoder.blocks.2.attn.key.weight"], fused[512:1024])
    assert torch.equal(state["decoder.blocks.2.attn.value.weight"], fused[1024:])
    assert "decoder.blocks.2.attn.key.bias" not in state


def test_quantized_models_are_refused() -> None:
    with pytest.raises(ModelError, match="quantized"):
        weights._state_dict({"encoder/conv1/weight_scale": None}, {})
