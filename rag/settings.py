"""The one settings object, read from `RAG_*` environment variables at the edges.

The CLI and the API build a `Settings` once and hand plain values to the pipeline. Every
field has a default that runs on the bundled models, so nothing needs configuring.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MAX_QUESTION_CHARS = 2000
ENV_PREFIX = "RAG_"
RetrievalMode = Literal["dense", "bm25", "hybrid"]


class Settings(BaseSettings):
    """Pipeline, model and server settings; env prefix `RAG_`."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    seeds_dir: Path = Field(Path("seeds"), description="Folder of source documents to ingest.")
    index_dir: Path = Field(Path("index"), description="Folder holding the built index.")
    embedding_model: str = Field(
        "all-MiniLM-L6-v2",
        description="sentence-transformers model: a folder, or a bundled name.",
    )
    embedder: str = Field("sentence-transformers", description="Embedding backend name.")
    model_path: str | None = Field(
        None, description="GGUF file for generation; default: the bundled SmolLM2-135M."
    )
    llm_url: str | None = Field(
        None, description="OpenAI-compatible server base URL (…/v1); replaces the local GGUF."
    )
    llm_model: str | None = Field(
        None, description="Model name sent to RAG_LLM_URL (default: the server's first model)."
    )
    llm_api_key: str | None = Field(
        None, description="Bearer key for RAG_LLM_URL, if it needs one."
    )
    generator: str = Field(
        "llama-cpp",
        description=(
            "Generation backend: llama-cpp (the GGUF of RAG_MODEL_PATH), quotes (no model; "
            "answers quote the evidence) or fake (tests)."
        ),
    )
    top_k: int = Field(5, ge=1, le=50, description="Passages retrieved per question.")
    retrieval: RetrievalMode = Field("hybrid", description="dense, bm25 or hybrid.")
    max_passage_tokens: int = Field(200, ge=32, le=2000, description="Token window per passage.")
    evidence_sentences: int = Field(3, ge=1, le=12, description="Sentences given to the model.")
    context_tokens: int = Field(2048, ge=256, description="Model context window (n_ctx).")
    max_answer_tokens: int = Field(80, ge=8, le=1024, description="Tokens generated at most.")
    threads: int | None = Field(
        None, ge=1, description="CPU threads for generation (default: all)."
    )
    abstain_threshold: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Least evidence match (0..1) below which the assistant abstains.",
    )
    weak_evidence_match: float = Field(
        0.33,
        ge=0,
        le=1,
        description="Evidence match (0..1) below which an answer is flagged as resting on "
        "weak evidence.",
    )
    # HTTP server.
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    # Lists read from the environment as a JSON array or as comma-separated values.
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Accepted API keys (empty: open)."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Origins allowed by CORS."
    )
    queue_size: int = Field(
        8, ge=1, description="Generation requests admitted at once (one runs, the rest wait)."
    )
    audit_log: Path = Field(Path("audit/answers.jsonl"), description="Where answers are logged.")

    @field_validator("api_keys", "cors_origins", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        """`RAG_API_KEYS=a,b` and `RAG_API_KEYS='["a","b"]'` both give ["a", "b"]."""
        if not isinstance(value, str):
            return value
        if value.strip().startswith("["):
            return json.loads(value)
        return [item.strip() for item in value.split(",") if item.strip()]


def unknown_variable_warnings(environ: Mapping[str, str]) -> list[str]:
    """One warning for each `RAG_*` variable in `environ` that is no setting, naming the
    closest setting: pydantic-settings ignores such a variable, so a misspelt setting
    (`RAG_TOPK=3`) would otherwise leave the default in force without a word."""
    known = [ENV_PREFIX + name.upper() for name in Settings.model_fields]
    warnings = []
    for variable in sorted(environ):
        # Setting names are matched case-insensitively, as pydantic-settings reads them.
        name = variable.upper()
        if not name.startswith(ENV_PREFIX) or name in known:
            continue
        closest = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {closest[0]}?" if closest else "the settings are listed in README.md"
        warnings.append(f"{variable} is not a setting and is ignored; {hint}")
    return warnings
