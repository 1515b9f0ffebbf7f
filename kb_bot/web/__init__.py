"""The kb-bot web app (Gradio): ``serve(kb)`` runs it, ``build_app(kb)`` builds it for tests."""

from __future__ import annotations

from typing import Any

__all__ = ["build_app", "serve"]


def __getattr__(name: str) -> Any:  # import Gradio only when the app is actually used
    if name in __all__:
        from . import app

        return getattr(app, name)
    raise AttributeError(name)
