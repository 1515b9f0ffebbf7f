"""Staff messages that promise a change "after 更新索引", and how the refresh keeps them true.

A handler whose message says the change takes effect with the next refresh also returns what that change is (its
*pending* value, kept in a ``gr.State`` next to the message; "" or None when the message promises nothing). The
refresh button's chain ends with steps (``staff_tab.wire``) that look in the index generation in use: a change it
holds turns its message into 已生效 and clears the pending value; otherwise (the refresh failed, was refused, or did
not take the change) both are left as they were, since the message is still true. Web QA: after the refresh the
messages still told staff to press 更新索引.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

#: How a message that said "after 更新索引" starts once the refresh has put the change in the index in use.
IN_EFFECT = "**已生效**"


def settled(in_effect_message: str | None) -> tuple[Any, Any]:
    """The (message, pending) a refresh leaves: the in-effect message and nothing pending when the change is in the
    index in use, else both unchanged (``None``: not in it, or nothing was pending)."""
    if in_effect_message is None:
        return gr.update(), gr.update()
    return in_effect_message, ""
