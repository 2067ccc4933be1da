"""Finding specialists: every class registered under the ``deskhand.specialists`` entry-point
group, deskhand's own included, so a plugin is installed like any other package."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import entry_points

from deskhand.errors import DeskhandError
from deskhand.specialists.contract import Specialist

GROUP = "deskhand.specialists"


class RegistryError(DeskhandError):
    """A specialist plugin cannot be loaded, or clashes with another."""


class Registry:
    """The specialists by name and by the intents they handle."""

    def __init__(self, specialists: Iterable[Specialist]) -> None:
        self.by_name: dict[str, Specialist] = {}
        self.by_intent: dict[str, Specialist] = {}
        for specialist in specialists:
            if specialist.name in self.by_name:
                raise RegistryError(f"Two specialists are named {specialist.name!r}.")
            self.by_name[specialist.name] = specialist
            for intent in specialist.intents:
                other = self.by_intent.get(intent)
                if other is not None:
                    raise RegistryError(
                        f"Specialists {other.name!r} and {specialist.name!r} both handle the "
                        f"intent {intent!r}.",
                        hint="An intent goes to exactly one specialist; uninstall one of them.",
                    )
                self.by_intent[intent] = specialist

    def for_intent(self, intent: str) -> Specialist | None:
        return self.by_intent.get(intent)


def discover() -> Registry:
    """Load every specialist registered in the installed packages."""
    found: list[Specialist] = []
    for point in sorted(entry_points(group=GROUP), key=lambda p: p.name):
        try:
            cls = point.load()
        except Exception as error:  # a broken plugin must not take the runtime down silently
            raise RegistryError(
                f"The specialist plugin {point.name!r} ({point.value}) failed to load: {error}"
            ) from None
        if not (isinstance(cls, type) and issubclass(cls, Specialist)):
            raise RegistryError(
                f"The entry point {point.name!r} ({point.value}) is not a Specialist subclass."
            )
        found.append(cls())
    return Registry(found)
