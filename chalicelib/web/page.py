"""HTML pages: a ScreenView as an accessible form, and the error/exit/wait pages.

Author text arrives as HTML already (Markdown rendered, answers escaped);
everything else is escaped here. Field inputs are named by position (`_f0`,
`_f1`, ...) so that variable names never travel through the browser: the server
maps positions back to the variables the screen asked for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import Any

from chalicelib.engine.screen import MessagePriority, RenderedField, ScreenView
from chalicelib.language.blocks import (
    MULTILINE,
    NEGATED,
    NUMERIC,
    YESNO_CHECKBOXES,
    YESNO_RADIOS,
    Datatype,
    Screen,
)

# Every HTML page: scripts only from our /static (plus 'unsafe-eval' for the author's `js show if`
# and `javascript` check-in replies, see static/app.js), no inline script or style, no plugins, no
# <base>, framed only by ourselves. Images may be remote (author Markdown can show them).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self'; img-src 'self' https:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'self'"
)
# Headers of every HTML page the app makes.
HTML_HEADERS = {
    "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin", "X-Frame-Options": "SAMEORIGIN",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
}

# The <input type> of a datatype shown as one text box; any other datatype is a plain text box.
_INPUT_TYPES: dict[str, str] = {
    **dict.fromkeys(NUMERIC, "number"), Datatype.RANGE: "range", Datatype.TEXT: "text", Datatype.EMAIL: "email",
    Datatype.DATE: "date", Datatype.TIME: "time", Datatype.DATETIME: "datetime-local",
    Datatype.PASSWORD: "password", Datatype.URL: "url",
}
# Shown as a list of radio buttons (checkboxes: check boxes); other choice kinds are a <select>.
_BUTTON_LISTS = YESNO_RADIOS | {Datatype.RADIO, Datatype.OBJECT_RADIO, Datatype.CHECKBOXES, Datatype.OBJECT_CHECKBOXES}
_CHECKBOX_LISTS = {Datatype.CHECKBOXES, Datatype.OBJECT_CHECKBOXES}
# Upload fields: <input type="file">, with the camera's capture attribute for camera/user/environment.
_FILE_INPUTS: dict[str, str] = {Datatype.FILE: "", Datatype.FILES: " multiple",
                                Datatype.CAMERA: ' accept="image/*" capture',
                                Datatype.USER: ' accept="image/*" capture="user"',
                                Datatype.ENVIRONMENT: ' accept="image/*" capture="environment"'}


def _a(value: Any) -> str:
    return escape(str(value), quote=True)


def layout(title: str, body: str, base: str, *, refresh: float | None = None, extra_head: str = "",
           body_attrs: str = "", scripts: Sequence[str] = ()) -> str:
    """The page around `body`; `scripts` are further files of /static to load (deferred, after app.js)."""
    more = "".join(f'<script src="{_a(base)}/static/{_a(name)}" defer></script>' for name in scripts)
    meta_refresh = f'<meta http-equiv="refresh" content="{int(refresh)}">' if refresh else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{escape(title)}</title>{meta_refresh}"
        f"<link rel=\"stylesheet\" href=\"{_a(base)}/static/app.css\">{extra_head}</head>"
        f"<body{body_attrs}><header class=\"bar\"><span class=\"brand\">{escape(title)}</span></header>"
        f"<main id=\"main\" class=\"container\">{body}</main>"
        f"<script src=\"{_a(base)}/static/app.js\" defer></script>{more}</body></html>"
    )


def screen_page(view: ScreenView, *, title: str, action_url: str, base: str, csrf: str, can_go_back: bool,
                errors: Mapping[str, str] | None = None, checkin_interval: int = 0, checkin_url: str = "",
                messages: Sequence[Mapping[str, str]] = (),
                file_url: Callable[[str, str], str] | None = None,
                direct_upload: tuple[str, int] | None = None) -> str:
    """`direct_upload` (the slot URL, the size in bytes): a chosen file larger than that is sent
    straight to S3 by static/uploads.js (runtime.direct_uploads)."""
    errors = errors or {}
    parts = [_back_form(action_url, csrf) if can_go_back and not view.prevent_back else ""]
    if errors:
        parts.append('<div class="alert alert-error" role="alert">Please correct the answers marked below.</div>')
    flashes = "".join(f'<div class="alert alert-{_a(_priority(m))}">{escape(m.get("message", ""))}</div>'
                      for m in messages if m.get("priority", MessagePriority.LOG) != MessagePriority.LOG)
    parts.append(f'<div id="flash" class="flash" role="status" aria-live="polite">{flashes}</div>')
    uploads = any(f.variable and f.datatype in _FILE_INPUTS for f in view.fields)
    enctype = ' enctype="multipart/form-data"' if uploads else ""
    direct = uploads and direct_upload is not None
    if direct and direct_upload is not None:
        enctype += (f' data-direct-upload="{_a(direct_upload[0])}"'
                    f' data-direct-upload-bytes="{int(direct_upload[1])}"')
    parts.append(f'<form method="post" action="{_a(action_url)}" class="screen"{enctype} novalidate>')
    parts.append(f'<input type="hidden" name="_csrf" value="{_a(csrf)}">')
    parts.append(f'<input type="hidden" name="_screen" value="{_a(view.block)}">')
    parts.append(f'<h1 id="question">{view.question}</h1>')
    if view.subquestion:
        parts.append(f'<div class="subquestion">{view.subquestion}</div>')
    parts.extend(_field(i, f, errors.get(f.variable or "")) for i, f in enumerate(view.fields))
    if view.attachments and file_url is not None:
        parts.append(_attachments(view, file_url))
    parts.append(_actions(view, errors))
    if view.help:
        parts.append(f'<details class="help"><summary>Help</summary>{view.help}</details>')
    if view.under:
        parts.append(f'<div class="under">{view.under}</div>')
    parts.append("</form>")
    if view.right:
        parts.append(f'<aside class="right">{view.right}</aside>')
    # static/checkin.js posts to checkin_url every checkin_interval ms (0: no check-ins)
    checkin = checkin_interval > 0 and bool(checkin_url)
    attrs = (f' data-checkin-url="{_a(checkin_url)}" data-checkin-interval="{int(checkin_interval)}"'
             if checkin else "")
    scripts = (("checkin.js",) if checkin else ()) + (("uploads.js",) if direct else ())
    return layout(title, "".join(parts), base, refresh=view.reload_seconds, body_attrs=attrs, scripts=scripts)


def has_uploads(view: ScreenView) -> bool:
    """True when the screen asks for a file."""
    return any(f.variable and f.datatype in _FILE_INPUTS for f in view.fields)


def policy_connecting_to(origin: str) -> str:
    """The pages' Content-Security-Policy, letting scripts also send to `origin` (S3, for uploads)."""
    return CONTENT_SECURITY_POLICY.replace("default-src 'self';", f"default-src 'self'; connect-src 'self' {origin};")


def _attachments(view: ScreenView, file_url: Callable[[str, str], str]) -> str:
    items = []
    for doc in view.attachments:
        links = " ".join(
            # No `download` attribute: Chromium then sends no Accept header, and API Gateway (like
            # Chalice) serves a binary body only to a request that accepts it. The response's
            # Content-Disposition makes the link a download anyway.
            f'<a class="btn btn-secondary" href="{_a(file_url(doc.file_id, f"{doc.filename}.{fmt}"))}">'
            f"{escape(fmt.upper())}</a>" for fmt in doc.formats)
        description = f'<p class="hint">{escape(doc.description)}</p>' if doc.description else ""
        items.append(f'<li class="document"><span class="document-name">{escape(doc.name)}</span>'
                     f"{description} {links}</li>")
    return f'<section class="documents" aria-label="Documents"><ul>{"".join(items)}</ul></section>'


_SHOWN_PRIORITIES = frozenset(p.value for p in MessagePriority if p is not MessagePriority.LOG)


def _priority(message: Mapping[str, str]) -> str:
    priority = message.get("priority", MessagePriority.INFO)
    return priority if priority in _SHOWN_PRIORITIES else MessagePriority.INFO


def _back_form(action_url: str, csrf: str) -> str:
    return (f'<form method="post" action="{_a(action_url)}" class="back-form">'
            f'<input type="hidden" name="_csrf" value="{_a(csrf)}">'
            '<button type="submit" name="_back" value="1" class="btn btn-link">&larr; Back</button></form>')


def _actions(view: ScreenView, errors: Mapping[str, str]) -> str:
    if view.kind in (Screen.FIELDS, Screen.CONTINUE):
        return ('<div class="actions"><button type="submit" name="_continue" value="1" class="btn btn-primary">'
                f"{escape(view.continue_label)}</button></div>")
    if not view.buttons:
        return ""
    error = errors.get(view.variable or "_button")
    out = ['<div class="actions buttons" role="group" aria-labelledby="question">']
    for index, button in enumerate(view.buttons):
        style = "btn-primary" if index == 0 else "btn-secondary"
        out.append(f'<button type="submit" name="_button" value="{index}" class="btn {style}">{button.label}</button>')
    out.append("</div>")
    if error:
        out.append(f'<p class="error" role="alert">{escape(error)}</p>')
    return "".join(out)


def _field(index: int, f: RenderedField, error: str | None) -> str:
    if f.variable is None:
        return f'<div class="note">{f.note}</div>'
    fid = f"f{index}"
    name = f"_f{index}"
    described = []
    hint = f'<p class="hint" id="{fid}-hint">{escape(f.hint)}</p>' if f.hint else ""
    if hint:
        described.append(f"{fid}-hint")
    err = f'<p class="error" id="{fid}-error">{escape(error)}</p>' if error else ""
    if err:
        described.append(f"{fid}-error")
    aria = (f' aria-describedby="{" ".join(described)}"' if described else "") + \
        (' aria-invalid="true"' if error else "")
    required = " required" if f.required else ""
    label = f.label or ""
    data = _js_attrs(f)
    if f.datatype == Datatype.HIDDEN:
        return f'<input type="hidden" name="{name}" value="{_a(_text_value(f))}">'
    if f.datatype in YESNO_CHECKBOXES:
        checked = (f.value is False) if f.datatype in NEGATED else bool(f.value)
        return (f'<div class="field field-check"{data}><input type="checkbox" id="{fid}" name="{name}" value="True"'
                f'{" checked" if checked else ""}{aria}> <label for="{fid}">{label}</label>{hint}{err}</div>')
    if f.datatype in _BUTTON_LISTS:
        kind = "checkbox" if f.datatype in _CHECKBOX_LISTS else "radio"
        options = "".join(
            f'<div class="option"><input type="{kind}" id="{fid}-{n}" name="{name}" value="{_a(c.value)}"'
            f'{_data_value(f, n)}{" checked" if c.selected else ""}{required if kind == "radio" else ""}>'
            f' <label for="{fid}-{n}">{c.label}</label></div>'
            for n, c in enumerate(f.choices))
        legend = f"<legend>{label}</legend>" if label else ""
        return f'<fieldset class="field"{data}{aria}>{legend}{hint}{options}{err}</fieldset>'
    control = _control(fid, name, f, aria, required)
    return f'<div class="field"{data}><label for="{fid}">{label}</label>{hint}{control}{err}</div>'


def _control(fid: str, name: str, f: RenderedField, aria: str, required: str) -> str:
    if f.datatype == Datatype.DROPDOWN or (f.choices and f.datatype != Datatype.COMBOBOX):
        multiple = f.datatype == Datatype.MULTISELECT
        options = ("" if multiple else '<option value="">Select...</option>') + "".join(
            f'<option value="{_a(c.value)}"{_data_value(f, n)}{" selected" if c.selected else ""}>{c.label}</option>'
            for n, c in enumerate(f.choices))
        return f'<select id="{fid}" name="{name}"{" multiple" if multiple else ""}{aria}{required}>{options}</select>'
    if f.datatype == Datatype.COMBOBOX:
        options = "".join(f'<option value="{_a(c.value)}">{c.label}</option>' for c in f.choices)
        return (f'<input type="text" id="{fid}" name="{name}" list="{fid}-list" value="{_a(_text_value(f))}"'
                f'{aria}{required}><datalist id="{fid}-list">{options}</datalist>')
    if f.datatype in _FILE_INPUTS:
        return f'<input type="file" id="{fid}" name="{name}"{_FILE_INPUTS[f.datatype]}{aria}{required}>'
    if f.datatype in MULTILINE:
        return f'<textarea id="{fid}" name="{name}" rows="4"{aria}{required}>{escape(_text_value(f))}</textarea>'
    kind = _INPUT_TYPES.get(f.input_type or f.datatype, "text")
    limits = ""
    if kind == "number":
        limits += ' step="any"' if f.datatype != Datatype.INTEGER else ' step="1"'
        limits += ' inputmode="numeric"' if f.datatype == Datatype.INTEGER else ' inputmode="decimal"'
    if f.minimum not in (None, ""):
        limits += f' min="{_a(f.minimum)}"'
    if f.maximum not in (None, ""):
        limits += f' max="{_a(f.maximum)}"'
    if f.maxlength:
        limits += f' maxlength="{f.maxlength}"'
    return (f'<input type="{kind}" id="{fid}" name="{name}" value="{_a(_text_value(f))}"'
            f'{limits}{aria}{required}>')


def _js_attrs(f: RenderedField) -> str:
    attrs = ""
    for attr, value in (("show-if", f.js_show_if), ("hide-if", f.js_hide_if), ("enable-if", f.js_enable_if),
                        ("disable-if", f.js_disable_if)):
        if value:
            attrs += f' data-js-{attr}="{_a(value)}"'
    if f.variable:
        attrs += f' data-variable="{_a(f.variable)}"'
    return attrs


def _data_value(f: RenderedField, index: int) -> str:
    """The real value behind a choice (its form value is its position), for static/checkin.js's `fields`."""
    value = f.choice_values[index] if index < len(f.choice_values) else None
    if value is None or not isinstance(value, (str, int, float)):  # bool is an int; objects stay hidden
        return ""
    return f' data-value="{_a(value)}"'


def _text_value(f: RenderedField) -> str:
    value = f.value
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def message_page(title: str, heading: str, text: str, base: str, *, refresh: float | None = None,
                 back_url: str | None = None, csrf: str = "", status_class: str = "") -> str:
    back = _back_form(back_url, csrf) if back_url else ""
    body = (f'{back}<div class="screen {status_class}"><h1 id="question">{escape(heading)}</h1>'
            f"<p>{escape(text)}</p></div>")
    return layout(title, body, base, refresh=refresh)


def confirm_page(title: str, heading: str, text: str, base: str, *, action_url: str, csrf: str,
                 confirm_label: str, cancel_url: str, cancel_label: str,
                 fields: Mapping[str, str] | None = None) -> str:
    """A question whose answer changes state: its button POSTs `fields` (with the CSRF token) to
    `action_url`; the other choice is a plain link back to `cancel_url`."""
    hidden = "".join(f'<input type="hidden" name="{_a(k)}" value="{_a(v)}">' for k, v in (fields or {}).items())
    body = (f'<div class="screen"><h1 id="question">{escape(heading)}</h1><p>{escape(text)}</p>'
            f'<form method="post" action="{_a(action_url)}" class="confirm-form">'
            f'<input type="hidden" name="_csrf" value="{_a(csrf)}">{hidden}'
            f'<div class="actions"><button type="submit" class="btn btn-primary">{escape(confirm_label)}</button> '
            f'<a class="btn btn-secondary" href="{_a(cancel_url)}">{escape(cancel_label)}</a></div></form></div>')
    return layout(title, body, base)


def start_over_form(action_url: str, csrf: str) -> str:
    """The "Start over" button of an error page: a POST (with the CSRF token) that starts a new session."""
    return (f'<form method="post" action="{_a(action_url)}" class="start-over-form">'
            f'<input type="hidden" name="_csrf" value="{_a(csrf)}">'
            '<button type="submit" name="_new_session" value="1" class="btn btn-link">Start over</button></form>')
