"""The account pages (sign in, register, passwords, My interviews), in the interview pages' style.

Everything shown is escaped here; the forms carry the CSRF token, use `type="email"` and
`type="password"` inputs with `autocomplete` names so that password managers work, and
tie each error to its field (`aria-describedby`, `aria-invalid`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from chalicelib.storage.records import SessionHead
from chalicelib.web.page import layout


def _a(value: object) -> str:
    return escape(str(value), quote=True)


@dataclass(frozen=True)
class Input:
    name: str
    label: str
    kind: str  # the <input type>
    autocomplete: str
    value: str = ""
    required: bool = True
    hint: str = ""


def _input(field: Input, error: str | None) -> str:
    fid = f"acct-{field.name}"
    described = [f"{fid}-hint"] if field.hint else []
    if error:
        described.append(f"{fid}-error")
    aria = (f' aria-describedby="{" ".join(described)}"' if described else "") + \
        (' aria-invalid="true"' if error else "")
    value = f' value="{_a(field.value)}"' if field.value and field.kind != "password" else ""
    hint = f'<p class="hint" id="{fid}-hint">{escape(field.hint)}</p>' if field.hint else ""
    err = f'<p class="error" id="{fid}-error">{escape(error)}</p>' if error else ""
    return (f'<div class="field"><label for="{fid}">{escape(field.label)}</label>{hint}'
            f'<input type="{_a(field.kind)}" id="{fid}" name="{_a(field.name)}" autocomplete="{_a(field.autocomplete)}"'
            f'{value}{aria}{" required" if field.required else ""} maxlength="254">{err}</div>')


def form_page(heading: str, base: str, *, action: str, csrf: str, fields: Sequence[Input], submit: str,
              intro: str = "", error: str = "", notice: str = "", field_errors: dict[str, str] | None = None,
              hidden: dict[str, str] | None = None, links: Sequence[tuple[str, str]] = ()) -> str:
    field_errors = field_errors or {}
    parts = []
    if error:
        parts.append(f'<div class="alert alert-error" role="alert">{escape(error)}</div>')
    if notice:
        parts.append(f'<div class="alert alert-info" role="status">{escape(notice)}</div>')
    parts.append(f'<form method="post" action="{_a(action)}" class="screen">')
    parts.append(f'<input type="hidden" name="_csrf" value="{_a(csrf)}">')
    parts.extend(f'<input type="hidden" name="{_a(k)}" value="{_a(v)}">' for k, v in (hidden or {}).items())
    parts.append(f'<h1 id="question">{escape(heading)}</h1>')
    if intro:
        parts.append(f'<div class="subquestion"><p>{escape(intro)}</p></div>')
    parts.extend(_input(f, field_errors.get(f.name)) for f in fields)
    parts.append(f'<div class="actions"><button type="submit" class="btn btn-primary">{escape(submit)}</button>'
                 "</div></form>")
    if links:
        parts.append('<ul class="under">' + "".join(f'<li><a href="{_a(url)}">{escape(text)}</a></li>'
                                                   for url, text in links) + "</ul>")
    return layout(heading, "".join(parts), base)


def text_page(heading: str, base: str, text: str, links: Sequence[tuple[str, str]] = (),
              status_class: str = "") -> str:
    more = "".join(f'<p><a href="{_a(url)}">{escape(label)}</a></p>' for url, label in links)
    body = (f'<div class="screen {_a(status_class)}"><h1 id="question">{escape(heading)}</h1>'
            f"<p>{escape(text)}</p>{more}</div>")
    return layout(heading, body, base)


def _when(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _delete_form(action: str, csrf: str, head: SessionHead) -> str:
    label = f"Delete {head.title or head.interview} ({_when(head.modified)})"
    return (f'<form method="post" action="{_a(action)}" class="inline-form">'
            f'<input type="hidden" name="_csrf" value="{_a(csrf)}">'
            f'<input type="hidden" name="i" value="{_a(head.interview)}">'
            f'<input type="hidden" name="session" value="{_a(head.session_id)}">'
            f'<button type="submit" name="_action" value="delete" class="btn btn-secondary"'
            f' aria-label="{_a(label)}">Delete</button></form>')


def interviews_page(base: str, *, email: str, heads: Sequence[SessionHead], csrf: str, notice: str = "") -> str:
    action = f"{base}/interviews"
    parts = [f'<div class="alert alert-info" role="status">{escape(notice)}</div>' if notice else "",
             '<div class="screen"><h1 id="question">My interviews</h1>',
             f'<p class="hint">Signed in as {escape(email)}.</p>']
    if not heads:
        parts.append("<p>You have no saved interviews.</p>")
    else:
        rows = "".join(
            f'<tr><td>{escape(h.title or h.interview)}</td><td>{escape(h.interview)}</td>'
            f'<td><time datetime="{_a(dt.datetime.fromtimestamp(h.modified, tz=dt.UTC).isoformat())}">'
            f'{escape(_when(h.modified))}</time></td>'
            f'<td><a href="{_a(action)}?resume={_a(quote(h.session_id))}&amp;i={_a(quote(h.interview))}">'
            f'Resume<span class="visually-hidden"> {escape(h.title or h.interview)}</span></a></td>'
            f"<td>{_delete_form(action, csrf, h)}</td></tr>"
            for h in heads)
        parts.append('<table class="sessions"><caption>Your saved sessions, latest first</caption>'
                     '<thead><tr><th scope="col">Title</th><th scope="col">Interview</th>'
                     '<th scope="col">Last modified</th><th scope="col">Resume</th><th scope="col">Delete</th>'
                     f"</tr></thead><tbody>{rows}</tbody></table>")
        parts.append(f'<form method="post" action="{_a(action)}"><input type="hidden" name="_csrf" value="{_a(csrf)}">'
                     '<div class="actions"><button type="submit" name="_action" value="delete_all"'
                     ' class="btn btn-secondary">Delete all</button></div></form>')
    parts.append(f'<form method="post" action="{_a(base)}/user/sign-out"><input type="hidden" name="_csrf"'
                 f' value="{_a(csrf)}"><div class="actions"><a href="{_a(base)}/user/change-password">'
                 'Change password</a> <button type="submit" class="btn btn-link">Sign out</button></div></form>')
    parts.append("</div>")
    return layout("My interviews", "".join(parts), base)


def confirm_delete_all_page(base: str, *, count: int, csrf: str) -> str:
    action = f"{base}/interviews"
    body = (f'<div class="screen"><h1 id="question">Delete all your interviews?</h1>'
            f"<p>This deletes {count} saved session{'s' if count != 1 else ''} and all their answers."
            " It cannot be undone.</p>"
            f'<form method="post" action="{_a(action)}"><input type="hidden" name="_csrf" value="{_a(csrf)}">'
            '<div class="actions"><button type="submit" name="_action" value="delete_all_confirmed"'
            ' class="btn btn-primary">Delete all</button> '
            f'<a class="btn btn-secondary" href="{_a(action)}">Keep them</a></div></form></div>')
    return layout("Delete all your interviews?", body, base)


def nav(base: str, signed_in_as: str | None, next_url: str) -> str:
    """The account links shown below an interview page's content."""
    if signed_in_as:
        return (f'<nav class="account container" aria-label="Account"><a href="{_a(base)}/interviews">My interviews</a>'
                f' <span class="hint">{escape(signed_in_as)}</span></nav>')
    following = f"?next={_a(quote(next_url, safe=''))}" if next_url else ""
    return ('<nav class="account container" aria-label="Account">'
            f'<a href="{_a(base)}/user/sign-in{following}">Sign in</a>'
            f' <a href="{_a(base)}/user/register{following}">Register</a></nav>')
