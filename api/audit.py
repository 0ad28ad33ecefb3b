"""The audit log: one JSON line per answer given over HTTP.

Officials must be able to show later what the assistant told them and why: the question,
the answer, the passages it cited, whether it abstained, the model and the corpus it ran on.
The file and its folder are created on first use; a lock keeps concurrent answers' lines
whole. API keys never reach this log.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

from rag.types import Answer

log = logging.getLogger("api.audit")


class AuditLog:
    """Appends answer records to a JSONL file (thread-safe)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def record(
        self,
        answer: Answer,
        *,
        corpus_hash: str | None,
        latency_ms: float,
        client: str | None,
        endpoint: str,
        documents: Collection[str] | None = None,
    ) -> None:
        """Append one line for `answer`; a failure to write is logged, not raised, since
        the answer has been given by then. `documents`, the ids the question was limited
        to, is recorded when given: an answer from one report says nothing of the others."""
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "question": answer.question,
            "answer": answer.answer,
            "anchors": [citation.anchor for citation in answer.citations],
            "abstained": answer.abstained,
            "mode": answer.mode,
            "model": answer.model,
            "corpus_hash": corpus_hash,
            "latency_ms": round(latency_ms, 1),
            "client": client,
            "endpoint": endpoint,
        }
        if documents:
            entry["documents"] = sorted(documents)
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.path, "a", encoding="utf-8") as handle:
                    handle.write(line)
        except OSError as error:
            log.error("cannot write the audit log %s: %s", self.path, error)
