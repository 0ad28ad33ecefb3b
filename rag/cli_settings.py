"""The command line's part of the configuration: the options that override settings, and
the errors that name an invalid value as the user gave it (an option or a RAG_ variable)."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import Any

from rag.errors import IndexMismatchError, IndexMissingError, RagError
from rag.settings import ENV_PREFIX, Settings


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (`--limit`, `--pid`)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def setting_default(field: str) -> Any:
    """`field`'s default as declared in `Settings`, for the help to quote."""
    return Settings.model_fields[field].default


def setting_range(field: str) -> str:
    """`field`'s bounds as in its declaration, so that the help cannot drift from them."""
    constraints = Settings.model_fields[field].metadata  # [Ge(ge=1), Le(le=50)]
    low = next(constraint.ge for constraint in constraints if hasattr(constraint, "ge"))
    high = next(constraint.le for constraint in constraints if hasattr(constraint, "le"))
    return f"{low} to {high}"


def index_dir_argument(index_dir: Path) -> str:
    """`index_dir` as `--index-dir` takes it in a command quoted with '…': with a slash, as
    folders are named in messages, and in double quotes when the shell would split it."""
    folder = f"{index_dir}/"
    return folder if shlex.quote(folder) == folder else f'"{folder}"'


def ingest_command(index_dir: Path) -> str:
    """The command that builds or rebuilds the index at `index_dir`: plain `rag ingest` for
    the default folder, else naming the folder (plain `rag ingest` would build ./index)."""
    if index_dir == setting_default("index_dir"):
        return "rag ingest"
    return f"rag ingest --index-dir {index_dir_argument(index_dir)}"


def naming_index_dir(error: RagError, index_dir: Path) -> RagError:
    """An index error whose fix says "run 'rag ingest'" with that command naming the index
    folder `index_dir` when it is not the default one (`ingest_command`); other errors as
    they are."""
    command = ingest_command(index_dir)
    if (
        not isinstance(error, (IndexMissingError, IndexMismatchError))
        or not error.fix
        or command == "rag ingest"
    ):
        return error
    return type(error)(error.problem, error.fix.replace("'rag ingest'", f"'{command}'"))


def top_k_help() -> str:
    """Help for `-k`, shared by the commands that retrieve."""
    return (
        f"passages to retrieve, {setting_range('top_k')} "
        f"(RAG_TOP_K, default {setting_default('top_k')})"
    )


def retrieval_help() -> str:
    """Help for `--retrieval`, shared by the commands that retrieve."""
    return (
        "how passages are found: dense (embedding similarity), bm25 (shared words) or "
        "hybrid (both, their scores combined) "
        f"(RAG_RETRIEVAL, default {setting_default('retrieval')})"
    )


def add_global_options(parser: argparse.ArgumentParser, default: Any) -> None:
    """The options every command takes, before or after its name."""
    options = parser.add_argument_group("global options (before or after the command)")
    options.add_argument(
        "--index-dir",
        type=Path,
        metavar="DIR",
        default=default,
        help="index folder (RAG_INDEX_DIR, default index/)",
    )
    options.add_argument(
        "--embedding-model",
        metavar="MODEL",
        default=default,
        help="sentence-transformers model folder or bundled name (RAG_EMBEDDING_MODEL)",
    )


# The options that override a setting, by setting: an invalid value is reported under the
# name the user gave it, the option's or the environment variable's.
OPTION_FOR_SETTING = {
    "index_dir": "--index-dir",
    "embedding_model": "--embedding-model",
    "model_path": "--model",
    "top_k": "-k",
    "retrieval": "--retrieval",
}
_OPTION_DESTINATIONS = {"model_path": "model"}
# Never echoed in an error message: they may hold credentials.
SECRET_SETTINGS = {"api_keys", "llm_api_key"}


def settings_from(args: argparse.Namespace) -> Settings:
    """Environment settings with the flags given on the command line laid over them;
    `RagError` naming each invalid value and where it came from."""
    from pydantic import ValidationError

    overrides = {
        field: getattr(args, _OPTION_DESTINATIONS.get(field, field), None)
        for field in OPTION_FOR_SETTING
    }
    given = {field: value for field, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as error:
        problems = "; ".join(_invalid_value(problem, given) for problem in error.errors())
        raise RagError(problems) from None


def _invalid_value(problem: Any, given: dict[str, Any]) -> str:
    field = str(problem["loc"][0])  # (field,) or, inside a list, (field, position)
    if field in given:
        name = f"{OPTION_FOR_SETTING[field]} {given[field]}"
    else:
        name = f"{ENV_PREFIX}{field.upper()}"
        if field not in SECRET_SETTINGS:
            name += f"={problem['input']}"
    message = problem["msg"]
    return f"{name} is invalid: {message[:1].lower()}{message[1:]}"
