"""The image builds every Darkroom package and runs as a user without rights, with a health check
(the Dockerfile cannot be built here: hadolint lints it in `make lint`, this pins its promises)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def stages() -> list[str]:
    return re.split(r"^FROM ", DOCKERFILE, flags=re.MULTILINE)[1:]


def test_every_package_of_the_repository_is_built_into_the_image() -> None:
    packages = {
        f"./{p.parent.relative_to(ROOT)}"
        for p in [*ROOT.glob("libs/*/pyproject.toml"), *ROOT.glob("services/*/pyproject.toml")]
    }
    build = stages()[0]
    assert packages and all(package in build for package in packages), packages


def test_the_runtime_stage_is_slim_non_root_and_checks_its_health() -> None:
    runtime = stages()[-1]
    assert len(stages()) == 2
    assert re.search(r"^USER 10001", runtime, flags=re.MULTILINE)
    assert "HEALTHCHECK" in runtime and "darkroom.runtime.healthcheck" in runtime
    assert "COPY libs" not in runtime and "apt-get" not in runtime  # wheels only, no compilers
    assert "org.opencontainers.image.source" in runtime


def test_the_build_context_is_only_what_the_image_needs() -> None:
    ignore = (ROOT / ".dockerignore").read_text().split()
    assert ignore[ignore.index("**") + 1 :][:3] == ["!constraints.txt", "!libs/**", "!services/**"]
