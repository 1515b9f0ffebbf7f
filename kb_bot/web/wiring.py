"""Named handler results, and how they reach Gradio.

Every handler of a tab returns a frozen dataclass whose field names are the names of the
widgets it updates (``ChatStep(chat=..., records=...)``). Tests read the fields by name;
``outputs(ResultType, widgets)`` lists the widgets in field order and ``for_gradio(handler)``
turns a result into the tuple Gradio expects, in the same order. Both sides come from the one
dataclass, so an output list and a return statement can no longer drift apart.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import fields, is_dataclass
from typing import Any, Callable


def outputs(result_type: type, widgets: object) -> list[Any]:
    """The widgets a result type fills: the attribute of ``widgets`` named like each field, in field order."""
    return [getattr(widgets, field.name) for field in fields(result_type)]


def values(result: object) -> Any:
    """A result as Gradio's return value: one field alone, several as a tuple in field order."""
    if result is None or not is_dataclass(result) or isinstance(result, type):
        return result
    found = tuple(getattr(result, field.name) for field in fields(result))
    return found[0] if len(found) == 1 else found


def for_gradio(handler: Callable[..., Any]) -> Callable[..., Any]:
    """``handler`` as a Gradio event function: same signature (Gradio reads it to pass ``gr.Request`` and event
    data), results converted by ``values``; a generator handler stays a generator (streamed outputs)."""
    if inspect.isgeneratorfunction(handler):
        @functools.wraps(handler)
        def stream(*args: Any, **kwargs: Any) -> Any:
            for result in handler(*args, **kwargs):
                yield values(result)

        return stream

    @functools.wraps(handler)
    def call(*args: Any, **kwargs: Any) -> Any:
        return values(handler(*args, **kwargs))

    return call
