"""eval.bench_server: memory read from /proc, URLs checked, and a started server that fails,
reported with the last lines of its log (the failures injected by replacing its command)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import eval.bench_server as bench_server
from api.app import create_app
from eval.bench_server import (
    MemorySampler,
    ProcessMemory,
    check_ready,
    normalise_url,
    parse_status,
    read_memory,
    started_server,
)
from rag.errors import RagError
from rag.settings import Settings
from tests.api.conftest import live_server

STATUS = """Name:\tpython
State:\tS (sleeping)
VmPeak:\t 2000000 kB
VmSize:\t 1900000 kB
VmHWM:\t  812345 kB
VmRSS:\t  654321 kB
Threads:\t5
"""


def test_parse_status_reads_resident_memory_and_its_peak() -> None:
    assert parse_status(STATUS) == ProcessMemory(rss_kib=654321, peak_kib=812345)


@pytest.mark.parametrize(
    "text", ["Name:\tkthreadd\nState:\tS\n", "VmHWM:\t 12 kB\n", "VmHWM:\t 1 MB\nVmRSS:\t 1 MB\n"]
)
def test_parse_status_refuses_text_without_both_figures_in_kib(text: str) -> None:
    with pytest.raises(ValueError):
        parse_status(text)


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_read_memory_of_this_process_has_a_peak_at_least_its_resident_size() -> None:
    memory = read_memory(os.getpid())
    assert memory is not None
    assert 0 < memory.rss_kib <= memory.peak_kib


def test_read_memory_of_no_process_is_none() -> None:
    assert read_memory(2**22 + 1) is None  # above the kernel's largest pid


def test_the_sampler_reports_the_peak_within_a_window() -> None:
    sampler = MemorySampler(pid=0, samples=[(0.0, 100), (1.0, 300), (2.0, 200), (3.0, 250)])
    assert sampler.peak_kib() == 300
    assert sampler.peak_kib(1.5, 3.0) == 250
    assert sampler.peak_kib(3.5, 4.0) is None


@pytest.mark.parametrize(
    ("url", "normalised"),
    [("http://127.0.0.1:8000/", "http://127.0.0.1:8000"), ("https://rag.example", None)],
)
def test_normalise_url_strips_the_trailing_slash(url: str, normalised: str | None) -> None:
    assert normalise_url(url) == (normalised or url)


@pytest.mark.parametrize("url", ["127.0.0.1:8000", "ftp://host/", "http://", "not a url"])
def test_normalise_url_refuses_what_is_not_an_http_address(url: str) -> None:
    with pytest.raises(RagError) as caught:
        normalise_url(url)
    assert str(caught.value) == (
        f"--url {url} is not an http:// or https:// address; give the server's base address, "
        "e.g. --url http://127.0.0.1:8000"
    )


def test_check_ready_names_the_problems_of_a_server_without_an_index(
    fake_settings: Settings,
) -> None:
    app = create_app(fake_settings, static_dir=None)
    with live_server(app) as url, pytest.raises(RagError) as caught:
        check_ready(url, None)
    message = str(caught.value)
    assert message.startswith(f"the server at {url} is not ready: index: no index at ")
    assert message.endswith(
        "run 'rag ingest --index-dir DIR' (DIR: the server's index folder, index/) to build it; "
        "fix what it names (its /api/health lists it) and run 'rag bench' again"
    )


def test_check_ready_asks_for_the_key_a_server_requires(fake_index: Settings) -> None:
    settings = fake_index.model_copy(update={"api_keys": ["right"]})
    with live_server(create_app(settings, static_dir=None)) as url:
        assert check_ready(url, "right")["ready"] is True
        for key, refused in ((None, ""), ("wrong", " and refused the one given")):
            with pytest.raises(RagError) as caught:
                check_ready(url, key)
            assert str(caught.value) == (
                f"the server at {url} requires an API key{refused}; "
                "pass --api-key KEY, one of its RAG_API_KEYS"
            )


def test_check_ready_refuses_a_server_that_is_not_the_assistant(fake_index: Settings) -> None:
    from fastapi import FastAPI

    with live_server(FastAPI()) as url, pytest.raises(RagError) as caught:
        check_ready(url, None)
    assert str(caught.value) == (
        f"{url}/api/health answered 404 without the assistant's health object; "
        "check that --url is the address of 'rag serve'"
    )


def fail_with(monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """Replace the server's command by `script`, run by this Python: an injected fault."""
    monkeypatch.setattr(bench_server, "server_command", lambda port: [sys.executable, "-c", script])


def test_a_server_that_exits_at_start_is_reported_with_its_last_log_lines(
    fake_index: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [f"line {n}" for n in range(1, 15)]
    fail_with(
        monkeypatch,
        f"import sys; print({chr(10).join(lines)!r}, flush=True); "
        "sys.stderr.write('boom: the model file is corrupt\\n'); sys.exit(3)",
    )
    with pytest.raises(RagError) as caught, started_server(fake_index, tmp_path, 30):
        pass
    log = tmp_path / "server.log"
    last_twelve = [*lines[3:], "boom: the model file is corrupt"]
    indented = "".join(f"\n    {line}" for line in last_twelve)
    assert str(caught.value) == (
        "the server exited with status 3 before it was ready; fix what its log names and "
        f"run 'rag bench' again; the last lines of {log}:{indented}"
    )


def test_a_server_that_never_answers_is_given_up_and_stopped(
    fake_index: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_with(monkeypatch, "import time; time.sleep(60)")
    with pytest.raises(RagError) as caught, started_server(fake_index, tmp_path, 0.5):
        pass
    assert str(caught.value) == (
        "the server did not answer within 0.5 s; give it longer with --start-timeout, or see "
        f"in its log what it is doing; its log {tmp_path / 'server.log'} is empty"
    )
