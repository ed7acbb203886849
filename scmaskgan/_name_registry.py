"""Registries of named things (data set loaders, baselines, benchmark methods and data sets).

One small pattern for every table of "name -> entry" in the package: a :class:`Registry` is a
mutable mapping with a :meth:`~Registry.register` decorator, a :meth:`~Registry.lookup` that
names the known entries when a name is unknown, and a :meth:`~Registry.check` for several
names at once (a command line's list).

Not to be confused with :mod:`scmaskgan.datasets._registry`, the registry of data FILES (their
URLs, SHA-256 hashes and sizes, read from ``registry.csv``): that one says where a file comes
from; this module only keeps named entries in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any, Generic, TypeVar

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(MutableMapping[str, T], Generic[T]):
    """Named entries of one kind, in the order they were added.

    Parameters
    ----------
    kind
        What an entry is, for messages (``"dataset"``, ``"baseline"``, ``"method"``).
    entries
        Entries to start with.
    error
        Exception class raised for unknown names (its message lists the known names).
    hint
        Words before the list of known names in that message (``"choose from"``).
    sorted_names
        List the names sorted (else in the order they were added) in :meth:`names` and messages.
    factory
        ``factory(name, obj, **fields)`` makes the entry that :meth:`register` stores for a
        decorated object; ``None`` stores the object itself.

    Examples
    --------
    >>> methods = Registry("method")
    >>> @methods.register("double")
    ... def double(x):
    ...     return 2 * x
    >>> methods.lookup("double")(3)
    6
    >>> methods.lookup("triple")
    Traceback (most recent call last):
    ...
    ValueError: unknown method 'triple'; choose from: double
    """

    def __init__(self, kind: str, entries: Mapping[str, T] | None = None, *, error: type[Exception] = ValueError,
                 hint: str = "choose from", sorted_names: bool = False,
                 factory: Callable[..., T] | None = None) -> None:
        self.kind = kind
        self.error = error
        self.hint = hint
        self.sorted_names = sorted_names
        self.factory = factory
        self._entries: dict[str, T] = dict(entries or {})

    # mapping protocol (setting and deleting are open, so that tests can add an entry for a while)
    def __getitem__(self, name: str) -> T:
        return self._entries[name]

    def __setitem__(self, name: str, entry: T) -> None:
        self._entries[name] = entry

    def __delitem__(self, name: str) -> None:
        del self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self.names())})"

    def names(self) -> list[str]:
        """The registered names, sorted or in the order they were added (``sorted_names``)."""
        return sorted(self._entries) if self.sorted_names else list(self._entries)

    def register(self, name: str, *args: Any, **fields: Any) -> Callable[[Any], Any]:
        """Decorator that registers the decorated object under ``name`` and returns it unchanged.

        Parameters
        ----------
        name
            The entry's name; registering a name twice is an error.
        *args, **fields
            Passed to ``factory`` after the name and the object: ``factory(name, obj, *args, **fields)``.

        Raises
        ------
        ValueError
            When ``name`` is already registered, or fields are given without a ``factory``.
        """
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        if (args or fields) and self.factory is None:
            raise ValueError(f"the {self.kind} registry has no factory to make an entry of {args + tuple(fields)}")

        def decorator(obj: Any) -> Any:
            self._entries[name] = obj if self.factory is None else self.factory(name, obj, *args, **fields)
            return obj

        return decorator

    def lookup(self, name: str) -> T:
        """The entry called ``name``.

        Raises
        ------
        Exception
            The registry's ``error`` (``ValueError`` by default), naming the known entries,
            when no entry has that name.
        """
        try:
            return self._entries[name]
        except KeyError:
            raise self.error(self._unknown([name])) from None

    def check(self, names: Iterable[str]) -> None:
        """Raise the registry's ``error`` naming every unknown name of ``names`` and the known ones."""
        unknown = [name for name in names if name not in self._entries]
        if unknown:
            raise self.error(self._unknown(unknown))

    def _unknown(self, unknown: list[str]) -> str:
        return f"unknown {self.kind} {', '.join(map(repr, unknown))}; {self.hint}: {', '.join(self.names())}"
