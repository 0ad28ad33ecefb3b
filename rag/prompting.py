"""Prompt construction within the model's context budget.

The system prompt comes first and never changes, so the llama-cpp generator keeps its tokens
in the KV cache and evaluates only the sources and the question for each prompt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rag.types import Evidence

NOT_IN_SOURCES = "NOT IN SOURCES"
SYSTEM_PROMPT = (
    "You answer questions about official migration-policy reports using only the numbered "
    "sources you are given. Answer in one or two short sentences. After each claim write the "
    "number of its source in brackets, like [1]. If the sources do not contain the answer, "
    f"reply exactly: {NOT_IN_SOURCES}"
)
# Tokens the chat template adds around the messages (role tags, special tokens).
TEMPLATE_OVERHEAD_TOKENS = 32


def format_sources(evidence: Sequence[Evidence]) -> str:
    return "\n".join(f"[{n}] {item.sentence}" for n, item in enumerate(evidence, start=1))


def build_messages(question: str, evidence: Sequence[Evidence]) -> list[dict[str, str]]:
    """Chat messages asking `question` over the numbered `evidence` sentences."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {
            "role": "user",
            "content": f"Sources:\n{format_sources(evidence)}\n\nQuestion: {question}",
        },
    ]


def fit_evidence(
    question: str,
    evidence: Sequence[Evidence],
    count_tokens: Callable[[str], int],
    budget_tokens: int,
) -> list[Evidence]:
    """The longest prefix of `evidence` whose prompt fits `budget_tokens` (at least one
    sentence, which the caller guarantees is short enough by the chunk size)."""
    kept = list(evidence)
    while len(kept) > 1:
        messages = build_messages(question, kept)
        used = sum(count_tokens(m["content"]) for m in messages) + TEMPLATE_OVERHEAD_TOKENS
        if used <= budget_tokens:
            break
        kept.pop()
    return kept
