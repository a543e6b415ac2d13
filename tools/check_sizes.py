"""Report modules and functions longer than the size limits of issue 11 (300 and 40 lines).

python tools/check_sizes.py libs services bench tools
python tools/check_sizes.py --max-function-lines 25 libs/media

A function's span runs from its `def` line (decorators excluded) to its last line; nested
functions and methods are counted on their own. Exits 1 when anything is over a limit.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 40


class Limits(NamedTuple):
    module: int
    function: int


class Violation(NamedTuple):
    path: Path
    line: int | None  # None for the module itself
    what: str
    lines: int
    limit: int

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else f"{self.path}"
        return f"{where}: {self.what} is {self.lines} lines (limit {self.limit})"


def python_files(roots: Sequence[Path]) -> Iterator[Path]:
    """Every .py file under the roots (a root may itself be a file), outside __pycache__."""
    for root in roots:
        candidates = [root] if root.is_file() else sorted(root.rglob("*.py"))
        yield from (path for path in candidates if "__pycache__" not in path.parts)


def check_source(path: Path, source: str, limits: Limits) -> list[Violation]:
    """The violations in one module's source, the module first, then functions by line."""
    found = []
    module_lines = len(source.splitlines())
    if module_lines > limits.module:
        found.append(Violation(path, None, "module", module_lines, limits.module))
    functions = (
        node
        for node in ast.walk(ast.parse(source, filename=str(path)))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    )
    for node in sorted(functions, key=lambda node: node.lineno):
        span = (node.end_lineno or node.lineno) - node.lineno + 1
        if span > limits.function:
            what = f"function {node.name}"
            found.append(Violation(path, node.lineno, what, span, limits.function))
    return found


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("roots", nargs="+", type=Path, help="directories (or files) to check")
    parser.add_argument("--max-module-lines", type=int, default=MAX_MODULE_LINES)
    parser.add_argument("--max-function-lines", type=int, default=MAX_FUNCTION_LINES)
    args = parser.parse_args(argv)
    missing = [str(root) for root in args.roots if not root.exists()]
    if missing:
        parser.error(f"no such file or directory: {', '.join(missing)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    limits = Limits(module=args.max_module_lines, function=args.max_function_lines)
    files = list(python_files(args.roots))
    violations = [
        violation
        for path in files
        for violation in check_source(path, path.read_text(encoding="utf-8"), limits)
    ]
    for violation in violations:
        sys.stdout.write(f"{violation}\n")
    offenders = len({violation.path for violation in violations})
    sys.stdout.write(
        f"{len(violations)} over the limits in {offenders} of {len(files)} files "
        f"(module {limits.module} lines, function {limits.function} lines)\n"
    )
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
