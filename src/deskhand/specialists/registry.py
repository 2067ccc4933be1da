"""Finding specialists: every class registered under the ``deskhand.specialists`` entry-point
group, deskhand's own included, so a plugin is installed like any other package."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib.metadata import entry_points

from deskhand.domain.intents import NAME, OTHER, Intent
from deskhand.errors import DeskhandError
from deskhand.specialists.contract import Specialist

GROUP = "deskhand.specialists"


class RegistryError(DeskhandError):
    """A specialist plugin cannot be loaded, or clashes with another."""


class Registry:
    """The specialists by name, and the intents they declare: by name (``intents``, the
    catalogue triage is built from) and with the specialist that handles each."""

    def __init__(self, specialists: Iterable[Specialist]) -> None:
        self.by_name: dict[str, Specialist] = {}
        self.by_intent: dict[str, Specialist] = {}
        intents: dict[str, Intent] = {}
        categories: dict[str, str] = {}  # taxonomy category -> the intent that declares it
        for specialist in specialists:
            if specialist.name in self.by_name:
                raise RegistryError(f"Two specialists are named {specialist.name!r}.")
            self.by_name[specialist.name] = specialist
            for intent, declared in _declared(specialist).items():
                other = self.by_intent.get(intent)
                if other is not None:
                    raise RegistryError(
                        f"Specialists {other.name!r} and {specialist.name!r} both handle the "
                        f"intent {intent!r}.",
                        hint="An intent goes to exactly one specialist; uninstall one of them.",
                    )
                for category in declared.categories:
                    if category in categories:
                        raise RegistryError(
                            f"The intents {categories[category]!r} and {intent!r} both take "
                            f"the taxonomy category {category!r}.",
                            hint="A category's tickets go to one intent; remove it from one.",
                        )
                    categories[category] = intent
                self.by_intent[intent] = specialist
                intents[intent] = declared
        self.intents: dict[str, Intent] = dict(sorted(intents.items()))

    def for_intent(self, intent: str) -> Specialist | None:
        return self.by_intent.get(intent)


def _declared(specialist: Specialist) -> Mapping[str, Intent]:
    """The specialist's intents, refused with a message saying how to declare them."""
    intents = getattr(specialist, "intents", None)
    example = 'intents = {"printer_mapping": Intent(description=..., examples=(...))}'
    if not isinstance(intents, Mapping) or not intents:
        raise RegistryError(
            f"Specialist {specialist.name!r} declares no intents as a mapping of names to "
            f"Intent (it has {type(intents).__name__}).",
            hint=f"Declare them like {example}; Intent is in deskhand.specialists.contract.",
        )
    for name, declared in intents.items():
        if not isinstance(name, str) or not NAME.fullmatch(name) or name == OTHER:
            raise RegistryError(
                f"Specialist {specialist.name!r} declares the intent {name!r}: an intent is a "
                f"lowercase name such as password_reset, and not {OTHER!r}."
            )
        if not isinstance(declared, Intent):
            raise RegistryError(
                f"Specialist {specialist.name!r} declares the intent {name!r} as "
                f"{type(declared).__name__}, not as an Intent.",
                hint=f"Declare them like {example}.",
            )
    return intents


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
