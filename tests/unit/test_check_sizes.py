"""tools/check_sizes.py reports every module over 300 lines and every function over 40."""

import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / "tools" / "check_sizes.py"


def function(name: str, lines: int, *, indent: str = "", header: str = "def") -> list[str]:
    """A function whose span, from its `def` line to its last line, is `lines` lines."""
    body = [f"{indent}    x = {n}" for n in range(lines - 1)]
    return [f"{indent}{header} {name}() -> None:", *body]


def write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_long_functions_and_modules_are_reported_with_their_line_and_exit_1(
    tmp_path: Path,
) -> None:
    write(
        tmp_path / "src" / "pkg" / "handlers.py",
        [
            "import functools",
            "",
            "",
            "@functools.cache",  # decorators do not count towards the span
            *function("long_one", 41),
            "",
            "",
            "class Worker:",
            *function("run", 45, indent="    ", header="async def"),
            "",
            "",
            *function("outer", 40),
            *function("inner", 41, indent="    "),  # nested: counted on its own
        ],
    )
    write(tmp_path / "src" / "big.py", ["x = 0"] * 301)

    result = run(tmp_path, "src")

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "src/big.py: module is 301 lines (limit 300)",
        "src/pkg/handlers.py:5: function long_one is 41 lines (limit 40)",
        "src/pkg/handlers.py:49: function run is 45 lines (limit 40)",
        "src/pkg/handlers.py:96: function outer is 81 lines (limit 40)",
        "src/pkg/handlers.py:136: function inner is 41 lines (limit 40)",
        "5 over the limits in 2 of 2 files (module 300 lines, function 40 lines)",
    ]


def test_a_tree_exactly_at_the_limits_is_clean_and_exits_0(tmp_path: Path) -> None:
    write(tmp_path / "src" / "ok.py", [*function("fits", 40), *["y = 1"] * 260])
    write(tmp_path / "src" / "__pycache__" / "stale.py", function("ignored", 99))

    result = run(tmp_path, "src")

    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "0 over the limits in 0 of 1 files (module 300 lines, function 40 lines)"
    ]


def test_the_limits_are_command_line_options(tmp_path: Path) -> None:
    write(tmp_path / "src" / "ok.py", function("medium", 26))

    result = run(tmp_path, "--max-function-lines", "25", "--max-module-lines", "20", "src")

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "src/ok.py: module is 26 lines (limit 20)",
        "src/ok.py:1: function medium is 26 lines (limit 25)",
        "2 over the limits in 1 of 1 files (module 20 lines, function 25 lines)",
    ]


def test_a_missing_root_is_a_usage_error(tmp_path: Path) -> None:
    result = run(tmp_path, "nowhere")

    assert result.returncode == 2
    assert "no such file or directory: nowhere" in result.stderr
