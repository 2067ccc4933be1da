"""Finding actions: every action registered under the ``deskhand.actions`` entry-point group,
deskhand's own included (``pyproject.toml``), so an MSP's action is installed like any other
package. An entry point names an ``Action`` subclass or a sequence of them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from importlib.metadata import entry_points

from deskhand.actions.contract import Action, listing
from deskhand.domain.actions import ActionError
from deskhand.errors import DeskhandError

GROUP = "deskhand.actions"


class ActionRegistryError(DeskhandError):
    """An action plugin cannot be loaded, or clashes with another."""


class Catalogue(Mapping[str, Action]):
    """The actions by name, each an instance of its class."""

    def __init__(self, actions: Iterable[Action]) -> None:
        self._by_name: dict[str, Action] = {}
        for found in actions:
            if found.name in self._by_name:
                raise ActionRegistryError(
                    f"Two actions are named {found.name!r} "
                    f"({type(self._by_name[found.name]).__module__} and "
                    f"{type(found).__module__}).",
                    hint="An action name belongs to one plugin; uninstall one of them.",
                )
            self._by_name[found.name] = found

    def __getitem__(self, name: str) -> Action:
        return self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def edited(self, names: Iterable[str]) -> str:
        """The parameters an edit changed, in plain words, when the action is not at hand (an
        event names only the fields): the label every action with that parameter agrees on."""
        return listing(self._label(name) for name in names)

    def _label(self, name: str) -> str:
        labels = {
            found.label(name)
            for found in self._by_name.values()
            if name in found.Params.model_fields
        }
        return labels.pop() if len(labels) == 1 else name.replace("_", " ")


_catalogue: Catalogue | None = None


def discover() -> Catalogue:
    """Load every action registered in the installed packages."""
    found: list[Action] = []
    for point in sorted(entry_points(group=GROUP), key=lambda p: p.name):
        try:
            loaded = point.load()
        except Exception as error:  # a broken plugin must not take the runtime down silently
            raise ActionRegistryError(
                f"The action plugin {point.name!r} ({point.value}) failed to load: {error}"
            ) from None
        classes = loaded if isinstance(loaded, list | tuple) else [loaded]
        for cls in classes:
            if not (isinstance(cls, type) and issubclass(cls, Action)):
                raise ActionRegistryError(
                    f"The entry point {point.name!r} ({point.value}) gives {cls!r}, not an "
                    "Action subclass."
                )
            found.append(cls())
    return Catalogue(found)


def catalogue() -> Catalogue:
    """The installed actions, found once per process (``refresh`` looks again)."""
    global _catalogue
    if _catalogue is None:
        _catalogue = discover()
    return _catalogue


def refresh() -> Catalogue:
    """Look for installed actions again (after a plugin was installed in this process)."""
    global _catalogue
    _catalogue = None
    return catalogue()


def action(name: str) -> Action:
    """The action ``name``; an ActionError listing the known actions otherwise."""
    known = catalogue()
    try:
        return known[name]
    except KeyError:
        raise ActionError(
            f"Unknown action {name!r}.", hint="Known actions: " + ", ".join(sorted(known)) + "."
        ) from None
