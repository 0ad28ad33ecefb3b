"""Assembly of pipeline components from `Settings`: the one place configuration becomes
plain values (used by the CLI, the API and the evaluation runner)."""

from __future__ import annotations

from rag.embedding import Embedder, create_embedder
from rag.generation import Generator, GeneratorConfig, create_generator
from rag.index import PassageIndex, load_index
from rag.manifest import IndexConfig
from rag.pipeline import Pipeline, PipelineConfig
from rag.retrieval import Retriever
from rag.settings import Settings

REMOTE_GENERATOR = "openai"


def index_config(settings: Settings) -> IndexConfig:
    return IndexConfig(
        embedding_model=settings.embedding_model,
        max_passage_tokens=settings.max_passage_tokens,
    )


def build_embedder(settings: Settings) -> Embedder:
    return create_embedder(settings.embedder, settings.embedding_model)


def build_generator(settings: Settings) -> Generator:
    """The local GGUF generator, or the OpenAI-compatible one when `RAG_LLM_URL` is set."""
    backend = REMOTE_GENERATOR if settings.llm_url else settings.generator
    return create_generator(
        backend,
        GeneratorConfig(
            model_path=settings.model_path,
            llm_url=settings.llm_url,
            llm_model=settings.llm_model,
            api_key=settings.llm_api_key,
            context_tokens=settings.context_tokens,
            threads=settings.threads,
        ),
    )


def load_configured_index(settings: Settings) -> PassageIndex:
    return load_index(settings.index_dir, index_config(settings))


def build_pipeline(
    settings: Settings,
    embedder: Embedder | None = None,
    generator: Generator | None = None,
    index: PassageIndex | None = None,
) -> Pipeline:
    """A pipeline over the configured index; components may be passed in to share them."""
    embedder = embedder or build_embedder(settings)
    index = index or load_configured_index(settings)
    return Pipeline(
        retriever=Retriever(index, embedder, settings.retrieval),
        generator=generator or build_generator(settings),
        config=PipelineConfig(
            top_k=settings.top_k,
            evidence_sentences=settings.evidence_sentences,
            max_answer_tokens=settings.max_answer_tokens,
            abstain_threshold=settings.abstain_threshold,
            weak_evidence_match=settings.weak_evidence_match,
        ),
    )
