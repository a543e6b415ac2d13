"""Which provider and model a submission gets, from the installed provider plug-ins: an unknown
or unconfigured one is a 422 naming the field (a chain step's, under `then`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from fastapi.exceptions import RequestValidationError

from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.params import ChainStep
from darkroom.runtime.providers import InvalidChoice, Registry


class Choice(Protocol):
    """What names a provider and model: a job body, a batch's options, a chain step."""

    @property
    def provider(self) -> str: ...

    @property
    def model(self) -> str | None: ...


def chosen_model(
    providers: Registry,
    job_type: JobType,
    choice: Choice,
    where: tuple[str | int, ...] = ("body",),
) -> str:
    """The model a job of `job_type` gets: the one named, or the provider's default for the
    type. `where` locates the choice in the body for the 422."""
    try:
        return providers.choose(job_type, choice.provider, choice.model).name
    except InvalidChoice as exc:
        error = {
            "type": "value_error",
            "loc": (*where, exc.field),
            "msg": f"Value error, {exc}",
            "input": getattr(choice, exc.field),
        }
        raise RequestValidationError([error]) from exc


def chosen_steps(providers: Registry, steps: Sequence[ChainStep]) -> list[ChainStep]:
    """A chain's steps, each with its model chosen (checked at submit, stored with the chain)."""
    return [
        step.model_copy(
            update={
                "model": chosen_model(providers, JobType(step.type), step, ("body", "then", index))
            }
        )
        for index, step in enumerate(steps)
    ]
