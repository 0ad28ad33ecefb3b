"""How the HTTP API names the server's files and folders: clients need to tell them apart
and an operator to recognise them, not to learn where the server keeps them. (The CLI names
them in full: its reader is the operator at the console.)"""

from __future__ import annotations

from pathlib import Path

from rag.cli_settings import index_dir_argument
from rag.errors import RagError


def public_path(path: str, seeds: Path) -> str:
    """`path` relative to the (resolved) seeds folder `seeds`, or its file name when it lies
    outside it."""
    source = Path(path).resolve()
    if source.is_relative_to(seeds):
        return source.relative_to(seeds).as_posix()
    return source.name


def public_folder(folder: Path) -> str:
    """`folder` relative to the server's working directory when it lies inside it (`index`,
    `data/index`), else its name alone."""
    resolved = folder.resolve()
    if resolved.is_relative_to(Path.cwd()):
        return resolved.relative_to(Path.cwd()).as_posix()
    return resolved.name


def public_message(message: str, folder: Path) -> str:
    """`message` with `folder`, as the settings name it, named by `public_folder`. A command
    naming a folder outside the working directory, whose public name alone would build
    another index, names it as a placeholder instead."""
    public = public_folder(folder)
    command = f"'rag ingest --index-dir {index_dir_argument(folder)}'"
    if not folder.resolve().is_relative_to(Path.cwd()):
        message = message.replace(
            command, f"'rag ingest --index-dir DIR' (DIR: the server's index folder, {public}/)"
        )
    return message.replace(f"{folder}/", f"{public}/")


def public_error(error: RagError, folder: Path) -> RagError:
    """`error`, of the same type, with `folder` named by `public_folder`."""
    fix = public_message(error.fix, folder) if error.fix else error.fix
    return type(error)(public_message(error.problem, folder), fix)
