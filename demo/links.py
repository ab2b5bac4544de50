"""Links that reproduce a view: the URL query names a tab (its api name) and its inputs (the handler's
parameter names), e.g. `/?tab=denoise&seed=7&sampler=DDIM&steps=20&eta=0`, so a teacher can send the class
the exact view on the projector. Unknown or out-of-range values fall back to the defaults, with a notice."""
from __future__ import annotations

from urllib.parse import urlencode

import gradio as gr

from lab import inputs
from lab.refusal import Refusal
from lab.registry import REGISTRY

from .tab import link_specs
from .tabs import TABS
from .messages import localized, speaking, tr

# tab → its linkable inputs in the order of the tab's handler: name → kind, from the tabs' own declarations
VIEWS: dict[str, dict[str, tuple]] = link_specs(TABS)
GLOBAL = {"checkpoint", "present", "tab", "__theme", "lang"}  # read elsewhere (or by Gradio), not per tab


def _value(kind: tuple, raw: str, name: str):
    if kind[0] == "int":
        return inputs.whole(raw, name, kind[1], kind[2])
    if kind[0] == "float":
        return inputs.real(raw, name, kind[1], kind[2])
    if kind[0] == "bool":
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise Refusal("bool", f"{name} must be true or false, got {raw!r}", name=name, value=repr(raw))
    if kind[0] == "choice":
        match = [c for c in kind[1] if c.lower() == raw.lower()]
        return match[0] if match else inputs.one_of(raw, name, kind[1])
    if len(raw) > 200:
        raise Refusal("too_long", f"{name} is too long", name=name)
    return raw


def parse(query: dict[str, str]) -> tuple[str | None, dict[str, object], list[str]]:
    """(tab or None, the inputs the query sets, one notice per value it ignored)."""
    notices: list[str] = []
    tab = query.get("tab")
    if tab is None:
        return None, {}, notices
    if tab not in VIEWS:
        return None, {}, [tr(f"The link names tab {tab!r}, which does not exist (tabs: {', '.join(VIEWS)}); "
                             f"showing the default view.",
                             f"連結指定的分頁 {tab!r} 不存在（分頁有：{', '.join(VIEWS)}）；顯示預設畫面。")]
    values: dict[str, object] = {}
    for name, raw in query.items():
        if name in GLOBAL:
            continue
        if name not in VIEWS[tab]:
            notices.append(tr(f"The link's {name!r} is not an input of {tab} (its inputs: {', '.join(VIEWS[tab])}); "
                              f"ignored.", f"連結中的 {name!r} 不是 {tab} 的輸入（它的輸入有：{', '.join(VIEWS[tab])}）；"
                              f"已忽略。"))
            continue
        try:
            values[name] = _value(VIEWS[tab][name], str(raw), name)
        except ValueError as e:
            notices.append(tr(f"The link's {e}; the default is used instead.", f"連結中的 {localized(e)}；改用預設值。"))
    return tab, values, notices


def make(base: str, tab: str, values: dict[str, object], checkpoint: str | None = None) -> str:
    """The link to `tab` with these input values (only the tab's own inputs are kept)."""
    if tab not in VIEWS:
        raise ValueError(f"unknown tab {tab!r}")
    query = {"tab": tab}
    for name in VIEWS[tab]:
        if name in values and values[name] is not None:
            v = values[name]
            query[name] = ("true" if v else "false") if isinstance(v, bool) else \
                (f"{v:g}" if isinstance(v, float) else str(v))
    if checkpoint:
        query["checkpoint"] = checkpoint
    return f"{base.split('?')[0].split('#')[0]}?{urlencode(query)}"


def apply_link(request: gr.Request):
    """On page load: the tab and inputs the URL's query names (see `parse`), and a notice for what it had to
    ignore, in the visitor's language."""
    query = dict(request.query_params) if request else {}
    with speaking(request.headers.get("accept-language") if request and request.headers is not None else None):
        tab, values, notices = parse(query)
        checkpoint = query.get("checkpoint")
        if checkpoint is not None and checkpoint not in REGISTRY.names():
            here = ", ".join(REGISTRY.names())
            notices.append(tr(f"The link's checkpoint {checkpoint!r} is not here (checkpoints: {here}); the default "
                              f"is used instead.", f"連結中的模型檢查點 {checkpoint!r} 不在這裡（可用的有：{here}）；改用預設值。"))
            checkpoint = None
        note = tr("**Note:**", "**注意：**")
    updates = []
    for tab_id, inputs_ in VIEWS.items():
        updates += [values[n] if tab_id == tab and n in values else gr.skip() for n in inputs_]
    return ([gr.Tabs(selected=tab) if tab else gr.skip(), "\n\n".join(f"{note} {n}" for n in notices),
             checkpoint if checkpoint else gr.skip()] + updates)
