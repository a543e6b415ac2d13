"""Provider plug-ins: a package installed beside Darkroom is found through its entry point, is
listed with whether it is configured, is what a submission may name, and is built by the
workers of its job types; a plug-in that cannot load, or whose settings are wrong, stops the
process naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from darkroom.contracts.jobtypes import JobType
from darkroom.runtime.providers import InvalidChoice, ProviderLoadError, Registry
from tests.fixtures.plugins import install_example_plugin


@pytest.fixture
def example_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("ACME_API_KEY", "OPENAI_API_KEY", "BFL_API_KEY", "REPLICATE_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    folder = install_example_plugin(tmp_path)
    monkeypatch.syspath_prepend(str(folder))
    return folder


def test_an_installed_plug_in_is_listed_beside_the_built_in_one(example_plugin: Path) -> None:
    views = {view.name: view for view in Registry.installed().views}

    assert views["local"].configured
    assert [m.name for m in views["local"].models] == [
        "procedural", "noop", "lanczos", "resize", "ken-burns"
    ]  # fmt: skip  # one entry, merged from the image, upscale and video workers' plug-ins
    acme = views["acme"]
    assert (acme.configured, acme.missing_settings) == (False, ["ACME_API_KEY"])
    assert (acme.models[0].name, acme.models[0].cost_usd) == ("flat-1", 0.01)


def test_a_provider_is_configured_once_its_settings_are_given(
    example_plugin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_API_KEY", "a-key")
    registry = Registry.installed()

    configured = {v.name: v.configured for v in registry.views}
    assert configured == {
        "acme": True, "bfl": False, "comfyui": False, "fal": False, "google": False,
        "local": True, "openai": False, "replicate": False, "runpod": False, "runway": False,
    }  # fmt: skip
    assert registry.choose(JobType.IMAGE, "acme", None).name == "flat-1"
    assert set(registry.build(JobType.IMAGE)) == {"acme", "local"}  # no keys for the others
    assert set(registry.build(JobType.VIDEO)) == {"local"}  # acme serves image jobs only


def test_a_submission_naming_what_cannot_run_is_refused_on_the_field_saying_why(
    example_plugin: Path,
) -> None:
    registry = Registry.installed()
    refusals = {
        ("dalle", None): ("provider", "unknown provider 'dalle' for image jobs; known: ['acme'"),
        ("acme", None): ("provider", "provider 'acme' is not configured here: set ACME_API_KEY"),
        ("local", "sdxl"): ("model", "unknown model 'sdxl' for provider 'local'; known: ['pro"),
        ("local", None): None,
    }
    for (provider, model), refused in refusals.items():
        try:
            registry.choose(JobType.IMAGE, provider, model)
        except InvalidChoice as exc:
            assert refused is not None, (provider, model)
            assert (exc.field, str(exc)[: len(refused[1])]) == refused
        else:
            assert refused is None, (provider, model)
    assert "acme" not in registry.build(JobType.IMAGE)  # a worker does not build it either


def test_a_plug_in_that_cannot_load_stops_the_process_naming_it(example_plugin: Path) -> None:
    info = next(example_plugin.glob("*.dist-info"))
    (info / "entry_points.txt").write_text("[darkroom.providers]\nacme = acme_darkroom.gone:X\n")
    with pytest.raises(ProviderLoadError, match=r"acme = acme_darkroom\.gone:X: cannot be loaded"):
        Registry.installed()


def test_a_plug_in_whose_entry_point_and_info_disagree_is_refused(example_plugin: Path) -> None:
    info = next(example_plugin.glob("*.dist-info"))
    text = "[darkroom.providers]\nacmi = acme_darkroom.provider:AcmeProvider\n"
    (info / "entry_points.txt").write_text(text)
    with pytest.raises(ProviderLoadError, match="its info names it 'acme'"):
        Registry.installed()


def test_a_setting_given_with_a_wrong_value_stops_the_process_naming_it(
    example_plugin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCAL_PROVIDER_STEPS", "1")
    with pytest.raises(
        ProviderLoadError, match="provider local: invalid settings: LOCAL_PROVIDER_"
    ):
        _ = Registry.installed().views
