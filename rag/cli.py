"""The `rag` command line: ingest reports, ask questions (and, through sub-modules, evaluate
and serve). Errors the user can act on print one line and exit with status 2."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.metadata
import io
import json
import os
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NoReturn, get_args

from rag.cli_settings import (
    add_global_options,
    ingest_command,
    naming_index_dir,
    retrieval_help,
    settings_from,
    top_k_help,
)
from rag.errors import IndexMismatchError, IndexMissingError, RagError
from rag.plain_text import answer_as_text
from rag.settings import RetrievalMode, Settings, unknown_variable_warnings

EXIT_USAGE = 2
EXIT_PARTIAL = 3  # some inputs failed (skipped files, bad batch lines); the rest succeeded
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a writer whose reader left

Command = Callable[[argparse.Namespace, Settings], int]
_COMMANDS: dict[str, Command] = {}


def command(name: str) -> Callable[[Command], Command]:
    def register(function: Command) -> Command:
        _COMMANDS[name] = function
        return function

    return register


PACKAGE = "gcm-rag"
EXIT_STATUS_HELP = "\n  ".join(
    [
        "Exit status:",
        "0    done",
        "1    unexpected failure (a bug: report it with the traceback)",
        "2    a problem you can fix: usage, question, setting, index, model or port",
        "     (the one-line message says what to do)",
        "3    some inputs were skipped (unreadable files, bad batch lines); the rest succeeded",
        "130  interrupted",
        "141  the output's reader stopped reading (rag docs list | head)",
    ]
)
ASK_EXAMPLE = "Which states regularised migrants during COVID?"


def examples(*lines: str) -> str:
    """A help epilog listing example command lines (kept as written by `HelpFormatter`)."""
    return "\n  ".join(["Examples:", *lines])


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, except that a paragraph with indented lines (examples, the
    exit statuses) is kept as written: the default one runs its lines together."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = text.split("\n\n")
        return "\n\n".join(
            textwrap.indent(paragraph, indent)
            if "\n " in paragraph
            else super(HelpFormatter, self)._fill_text(paragraph, width, indent)
            for paragraph in paragraphs
        )


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, except that a bad option is one line naming it and where to look,
    as every other error of `rag` is, rather than the whole usage text before it."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}; see '{self.prog} --help'\n")


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="rag",
        description=(
            "Offline question answering over migration-policy reports, with every claim "
            "cited to the passage it comes from. Settings come from RAG_* environment "
            "variables; flags override them."
        ),
        epilog=(
            f'Start with:\n  rag ingest\n  rag ask "{ASK_EXAMPLE}"\n\n'
            f"Each command has its own help and examples: rag COMMAND --help.\n\n"
            f"{EXIT_STATUS_HELP}"
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    add_global_options(parser, default=None)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    ingest = commands.add_parser(
        "ingest",
        help="index reports (incremental: unchanged files are not re-embedded)",
        description=(
            "Read reports, split them into cited passages, embed them and save the index. "
            "A run that is interrupted keeps what it embedded (in the index folder's .partial/): "
            "run the same command again to resume."
        ),
        epilog=examples(
            "rag ingest                         seeds/ (RAG_SEEDS_DIR)",
            "rag ingest reports/ review.pdf     these files and folders",
            "rag ingest --index-dir /srv/rag/index reports/",
        ),
    )
    ingest.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="files or folders to ingest (default: RAG_SEEDS_DIR, i.e. seeds/)",
    )
    ingest.add_argument("--quiet", action="store_true", help="no progress bars")

    ask = commands.add_parser(
        "ask",
        help="answer a question with cited sources",
        description=(
            "Answer QUESTION from the indexed reports. Every claim cites its passage; when "
            "the reports do not answer, the assistant says so, and why."
        ),
        epilog=examples(
            f'rag ask "{ASK_EXAMPLE}"',
            f'rag ask --json "{ASK_EXAMPLE}"',
            'rag ask --batch questions.txt      one question per line, or JSONL {"question": ...}',
            f'rag ask -k 10 --retrieval bm25 "{ASK_EXAMPLE}"',
            f'rag ask --doc gcm-unece-2020 "{ASK_EXAMPLE}"',
            "rag ask --doc gcm-unece-2020 --doc ID --batch questions.txt   ids: 'rag docs list'",
        ),
    )
    ask.add_argument("question", nargs="?", help="the question (omit with --batch)")
    ask.add_argument("--json", action="store_true", help="print one JSON object per answer")
    ask.add_argument(
        "--batch",
        type=Path,
        metavar="FILE",
        help="answer each line of FILE (plain text, or JSONL with a 'question' field)",
    )
    ask.add_argument(
        "--doc",
        action="append",
        dest="documents",
        metavar="ID",
        help="answer from this document only: its id, as 'rag docs list' shows it; repeat "
        "for several (also with --batch). Default: every indexed document",
    )
    ask.add_argument(
        "--model",
        metavar="GGUF",
        help="GGUF file to generate with (RAG_MODEL_PATH; default the bundled SmolLM2-135M)",
    )
    ask.add_argument(
        "-k",
        "--top-k",
        type=int,
        metavar="N",
        help=top_k_help(),
    )
    ask.add_argument(
        "--retrieval",
        choices=get_args(RetrievalMode),
        help=retrieval_help(),
    )

    for module_name in SUBCOMMAND_MODULES:
        module = importlib.import_module(module_name)
        module.add_parser(commands)
        _COMMANDS[module.NAME] = module.run
    for subcommand in _subcommand_parsers(parser):
        # SUPPRESS: left out after the command, an option keeps the value given before it
        # (a default of None here would overwrite it).
        add_global_options(subcommand, default=argparse.SUPPRESS)
        subcommand.formatter_class = HelpFormatter
        own = subcommand.epilog
        subcommand.epilog = f"{own}\n\n{EXIT_STATUS_HELP}" if own else EXIT_STATUS_HELP
    return parser


def package_version() -> str:
    """The installed package's version, as `rag --version` gives it."""
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return f"(unknown: the {PACKAGE} package is not installed; run 'make setup')"


def _subcommand_parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every command's parser, nested ones (`docs list`) included, whichever module made it.
    argparse has no public way to list them."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subcommand in action.choices.values():
                yield subcommand
                yield from _subcommand_parsers(subcommand)


# Modules adding a sub-command each expose NAME, add_parser(subparsers) and
# run(args, settings) -> exit status.
SUBCOMMAND_MODULES: tuple[str, ...] = ("eval.cli", "eval.bench_cli", "rag.docs_cli", "api.cli")


@command("ingest")
def run_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from rag.factory import build_embedder, index_config
    from rag.ingest import ingest

    paths = args.paths or [settings.seeds_dir]
    for path in paths:
        # Named absolutely: a relative default such as seeds/ is looked for in the working
        # folder, which is not the project folder when rag runs from elsewhere.
        if not path.exists() and not args.paths:
            raise RagError(
                f"seeds folder {path.absolute()} does not exist",
                "run from the project folder, set RAG_SEEDS_DIR, "
                "or name the reports to index: rag ingest PATH...",
            )
        if not path.exists():
            raise RagError(f"{path.absolute()} does not exist", "name a file or folder of reports")
    report = ingest(
        paths,
        settings.index_dir,
        index_config(settings),
        build_embedder(settings),
        progress=not args.quiet and sys.stderr.isatty(),
        log=lambda line: print(line, file=sys.stderr),
    )
    # Skipped files, duplicates and removals were announced on stderr as they were found.
    print(report.summary(settings.index_dir))
    return EXIT_PARTIAL if report.skipped else 0


@command("ask")
def run_ask(args: argparse.Namespace, settings: Settings) -> int:
    from rag.factory import build_pipeline
    from rag.pipeline import validate_question

    if args.batch is None and args.question is None:
        raise RagError("no question given", "run 'rag ask \"QUESTION\"' or 'rag ask --batch FILE'")
    if args.batch is not None and args.question is not None:
        raise RagError("both a question and --batch given", "use one or the other")
    if args.question is not None:
        validate_question(args.question)
    questions = list(read_batch(args.batch)) if args.batch else [(1, args.question, None)]
    pipeline = build_pipeline(settings)
    # Before any model loads: a misspelt id is refused at once, not after loading.
    documents = pipeline.check_documents(args.documents)
    pipeline.warm_up()
    failures = answered = 0
    for line_number, question, problem in questions:
        if problem is None:
            try:
                answer = pipeline.ask(question, documents=documents)
            except RagError as error:
                problem = str(error)
            else:
                if args.json:
                    print(json.dumps(answer.to_dict(), ensure_ascii=False))
                elif args.batch is None:
                    print(answer_as_text(answer))
                else:
                    # Each answer under its question, a blank line between: read in a
                    # terminal, a batch's answers could not be told apart.
                    if answered:
                        print()
                    print(f"Q: {question}")
                    print(answer_as_text(answer))
                answered += 1
                sys.stdout.flush()
                continue
        failures += 1
        if args.batch is None:
            raise RagError(problem)
        if args.json:
            print(json.dumps({"line": line_number, "question": question, "error": problem}))
            sys.stdout.flush()
        else:
            print(f"line {line_number} skipped: {problem}", file=sys.stderr, flush=True)
    return EXIT_PARTIAL if failures else 0


def read_batch(path: Path) -> Iterator[tuple[int, str, str | None]]:
    """(line number, question, problem) for each non-blank line of a batch file."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise RagError(f"batch file {path} does not exist") from None
    except UnicodeDecodeError:
        raise RagError(f"batch file {path} is not UTF-8 text", "re-save it as UTF-8") from None
    if not any(line.strip() for line in lines):
        raise RagError(f"batch file {path} is empty", "put one question per line")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        question, problem = _batch_question(line)
        yield number, question, problem


def _batch_question(line: str) -> tuple[str, str | None]:
    from rag.pipeline import validate_question

    text = line.strip()
    if text.startswith("{"):
        try:
            record = json.loads(text)
        except ValueError as error:
            return text, f"not valid JSON ({error})"
        question = record.get("question") if isinstance(record, dict) else None
        if not isinstance(question, str):
            return line, "a JSON line needs a 'question' string field"
        text = question
    try:
        return validate_question(text), None
    except RagError as error:
        return text, str(error)


def run_command(args: argparse.Namespace) -> int:
    """Run the command `args` name, with the settings they and the environment give."""
    settings = settings_from(args)
    try:
        return _COMMANDS[args.command](args, settings)
    except IndexMissingError:
        # The index names its folder as configured, often the relative default index/: run
        # from another folder, that reads as if no index had been built at all.
        command = ingest_command(settings.index_dir)
        elsewhere = (
            "; if it was built in the project folder, run rag from there or set "
            "RAG_INDEX_DIR (or --index-dir)"
            if command == "rag ingest"
            else ""
        )
        raise IndexMissingError(
            f"no index at {settings.index_dir.absolute()}/",
            f"run '{command}' to build it{elsewhere}",
        ) from None
    except IndexMismatchError as error:
        # Rebuilt by 'rag ingest' only when it is told which folder: it builds ./index.
        raise naming_index_dir(error, settings.index_dir) from None


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    for warning in unknown_variable_warnings(os.environ):
        print(f"rag {args.command}: warning: {warning}", file=sys.stderr)
    try:
        return run_command(args)
    except RagError as error:
        print(f"rag {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"rag {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader stopped reading ("rag docs list | head"): stop quietly, as cat does,
        # and keep the interpreter's last flush from failing on the closed pipe too.
        with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
