"""Reading the files a user hands the robot (organizations, faults, sessions, .env, the manifest),
whatever they turn out to be.

A FIFO, a device such as /dev/zero, a directory, a file over `MAX_INPUT_BYTES`, NUL bytes, a bad
encoding, YAML nested deeper than `MAX_DEPTH`, a recursive alias or an alias bomb each become one
`InputFileError` line within a moment, never a hang or a traceback.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

MAX_INPUT_BYTES = 1024 * 1024  # 1 MiB: about 10,000 organizations
MAX_DEPTH = 64  # nesting of mappings and lists
MAX_VALUES = 100_000  # scalars, lists and mappings once every alias is expanded
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_KINDS = {stat.S_ISDIR: "a directory", stat.S_ISFIFO: "a FIFO (named pipe)", stat.S_ISCHR: "a character device",
          stat.S_ISBLK: "a block device", stat.S_ISSOCK: "a socket"}


class InputFileError(ValueError):
    """What is wrong with an input file (`problem`), where (`line`, 1-based, or None), and the fix."""

    def __init__(self, problem: str, fix: str, line: int | None = None):
        super().__init__(problem)
        self.problem, self.fix, self.line = problem, fix, line


def read_text(path: Path, limit: int = MAX_INPUT_BYTES) -> str:
    """The UTF-8 text of a regular file of at most `limit` bytes. Never blocks on a FIFO or a device."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except FileNotFoundError:
        raise InputFileError("no such file", "check the path") from None
    except IsADirectoryError:
        raise InputFileError("is a directory, not a file", "give the path of the file") from None
    except PermissionError:
        raise InputFileError("cannot read the file (permission denied)", "fix its permissions") from None
    except OSError as exc:
        raise InputFileError(f"cannot open the file ({exc.strerror})", "check the path") from None
    try:
        mode = os.fstat(fd).st_mode
        kind = next((name for test, name in _KINDS.items() if test(mode)), None)
        if kind or not stat.S_ISREG(mode):
            raise InputFileError(f"is {kind or 'not a regular file'}, not a regular file", "give the path of a file")
        chunks, size = [], 0
        while size <= limit and (chunk := os.read(fd, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise InputFileError(f"is larger than {limit // 1024} KiB (the limit for input files)",
                             "split it into several files")
    if b"\x00" in data:
        line = data[:data.index(b"\x00")].count(b"\n") + 1
        raise InputFileError("contains a NUL byte (is it a binary file?)", "save it as plain UTF-8 text", line)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputFileError("is not UTF-8 text", "save it as UTF-8", line) from None
    return text


def load_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """(composed node tree, data) of one YAML document; bounded in depth, aliases and size."""
    _check_depth(text)
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "syntax error"
        if exc.context and problem.startswith("but "):
            problem = f"{exc.context} {problem}"
        column = f" (column {mark.column + 1})" if mark else ""
        raise InputFileError(f"not valid YAML: {problem}{column}", "fix the YAML syntax on that line",
                             mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise InputFileError(f"not valid YAML ({type(exc).__name__})", "fix the YAML syntax") from None
    if root is None:
        return None, None
    _check_expansion(root)
    loader = yaml.SafeLoader("")
    try:
        return root, loader.construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputFileError(f"not valid YAML: {getattr(exc, 'problem', None) or exc}", "fix the value on that line",
                             mark.line + 1 if mark else None) from None
    finally:
        loader.dispose()


def load_yaml_file(path: Path, limit: int = MAX_INPUT_BYTES) -> Any:
    """The data of a YAML file (read with `read_text`, loaded with `load_yaml`)."""
    return load_yaml(read_text(path, limit))[1]


def _check_depth(text: str) -> None:
    """Refuses documents nested deeper than MAX_DEPTH before anything recursive looks at them."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    line = event.start_mark.line + 1 if event.start_mark else None
                    raise InputFileError(f"nests lists or mappings deeper than {MAX_DEPTH} levels",
                                         "flatten the structure", line)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return  # the syntax error is reported by compose, with its line


def _check_expansion(root: yaml.Node) -> None:
    """Refuses a recursive alias and aliases that expand to more than MAX_VALUES values."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise InputFileError("an alias refers to the list or mapping that contains it (a recursive alias)",
                                 "remove the *alias from inside its own &anchor", node.start_mark.line + 1)
        open_nodes.add(key)
        if isinstance(node, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(item) for item in node.value)
        else:
            total = 1
        open_nodes.discard(key)
        if total > MAX_VALUES:
            raise InputFileError(f"expands to more than {MAX_VALUES} values through aliases",
                                 "write the values out instead of nesting aliases", node.start_mark.line + 1)
        sizes[key] = total
        return total

    size(root)
