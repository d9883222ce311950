"""The one presenter of histories, records and diffs, for the CLI and the notebook.

The CLI prints the text views, the magics and widgets show the HTML views (with the
text views as ``text/plain``); a diff is first turned into sections of facts
(:func:`diff_sections`), which both layouts render, so both say the same thing.

Pure functions over the JSON structures of :func:`mlvc_server.service.log` and
:func:`mlvc_server.service.diffs` (see :mod:`mlvc_server.service.diff`): no IPython, no widgets,
so they are cheap to import and easy to test. The HTML uses only inline styles built on
JupyterLab's CSS variables (with fallbacks for other front ends), so it follows the light
and dark themes; every string that comes from a user is escaped.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

_HTML_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}
)


def escape(s: str) -> str:
    """``html.escape(s)`` (quotes included), without importing :mod:`html` and its table
    of entities at every start of the CLI."""
    return s.translate(_HTML_ESCAPES)


#: How many commits a history view shows at first.
LOG_PAGE = 50

#: Metrics shown per commit in a history row.
HEADLINE_METRICS = 3

_MAX_VALUE_CHARS = 60
_MAX_LISTED = 8

# -- styles ------------------------------------------------------------------------------
_FONT = (
    "font-family:var(--jp-ui-font-family,sans-serif);"
    "font-size:var(--jp-ui-font-size1,13px);"
    "color:var(--jp-ui-font-color1,inherit);"
)
_MONO = "font-family:var(--jp-code-font-family,monospace);"
_MUTED = "color:var(--jp-ui-font-color2,#616161);"
_BORDER = "var(--jp-border-width,1px) solid var(--jp-border-color2,#e0e0e0)"
# JupyterLab's rendered-HTML rules center tables, right-align cells and stripe rows:
# the inline styles below undo that, so the views read like the rest of the UI.
_TABLE = f"border-collapse:collapse;margin:4px 0;table-layout:auto;width:auto;{_FONT}"
_TH = (
    f"text-align:left;padding:2px 10px 2px 0;border:none;border-bottom:{_BORDER};"
    f"font-weight:600;white-space:nowrap;background:none;{_MUTED}"
)
_TD = "text-align:left;padding:2px 10px 2px 0;border:none;vertical-align:top;background:none;"
_SECTION = f"{_TD}font-weight:600;white-space:nowrap;{_MUTED}"
_CHIP = (
    "display:inline-block;margin-left:4px;padding:0 6px;border-radius:8px;"
    "border:var(--jp-border-width,1px) solid var(--jp-brand-color2,#64b5f6);"
    "color:var(--jp-brand-color1,#1976d2);font-size:var(--jp-ui-font-size0,11px);"
)
_STATUS_COLOR = {
    "added": "var(--jp-success-color1,#388e3c)",
    "removed": "var(--jp-error-color1,#d32f2f)",
    "changed": "var(--jp-warn-color1,#f57c00)",
    "failed": "var(--jp-error-color1,#d32f2f)",
    "skipped": "var(--jp-warn-color1,#f57c00)",
}


def _status_html(status: str) -> str:
    color = _STATUS_COLOR.get(status, "var(--jp-ui-font-color2,#616161)")
    return f'<span style="color:{color};font-weight:600">{escape(status)}</span>'


def _table(head: Sequence[str], rows: Iterable[str], label: str) -> str:
    ths = "".join(f'<th style="{_TH}">{escape(h)}</th>' for h in head)
    return (
        f'<table style="{_TABLE}" aria-label="{escape(label)}">'
        f"<thead><tr>{ths}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


# -- values ------------------------------------------------------------------------------
def format_value(value: Any, digits: int = 6) -> str:
    """A short, readable form of a JSON value (floats to ``digits`` significant digits)."""
    if isinstance(value, bool) or value is None:
        text = repr(value)
    elif isinstance(value, float):
        text = f"{value:.{digits}g}"
    elif isinstance(value, int | str):
        text = str(value)
    else:
        text = json.dumps(value, default=str, sort_keys=True)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[: _MAX_VALUE_CHARS - 1] + "…"
    return text


def format_delta(delta: Any) -> str:
    """A signed difference: ``+3``, ``-0.9``, ``+0.0112``."""
    if isinstance(delta, int) and not isinstance(delta, bool):
        return f"{delta:+d}"
    if isinstance(delta, float):
        return f"{delta:+.4g}"
    return format_value(delta)


def format_bytes(n: float) -> str:
    """A byte count for people: ``512 B``, ``1.5 KiB``, ``12 MiB``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} TiB"  # pragma: no cover - the loop always returns


def _percent(fraction: float) -> str:
    pct = fraction * 100
    if pct == 0 or pct >= 10:
        return f"{pct:.0f}%"
    return f"{pct:.2g}%"


def _parse_time(iso: str) -> _dt.datetime | None:
    try:
        t = _dt.datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return None
    return t if t.tzinfo else t.replace(tzinfo=_dt.UTC)


def relative_time(iso: str, now: _dt.datetime | None = None) -> str:
    """``just now``, ``5 min ago``, ``3 h ago``, ``2 days ago`` or the date."""
    t = _parse_time(iso)
    if t is None:
        return iso
    seconds = ((now or _dt.datetime.now(_dt.UTC)) - t).total_seconds()
    if seconds < 45:
        return "just now"
    if seconds < 90 * 60:
        return f"{max(1, round(seconds / 60))} min ago"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h ago"
    if seconds < 14 * 86400:
        return f"{round(seconds / 86400)} days ago"
    return t.astimezone().strftime("%Y-%m-%d")


def absolute_time(iso: str) -> str:
    """The commit time in the local time zone, ``2026-05-01 14:03:12 CEST``."""
    t = _parse_time(iso)
    return t.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z") if t else iso


def headline_metrics(metrics: Mapping[str, Any], limit: int = HEADLINE_METRICS) -> str:
    """``acc 0.962 · loss 0.12`` (the first ``limit`` metrics, then ``+N more``)."""
    items = [f"{k} {format_value(v, 4)}" for k, v in list(metrics.items())[:limit]]
    if len(metrics) > limit:
        items.append(f"+{len(metrics) - limit} more")
    return " · ".join(items)


# -- history -----------------------------------------------------------------------------
def _decorations(commit: Mapping[str, Any]) -> list[str]:
    return [str(t) for t in commit.get("tags") or []]


def log_row_cells(commit: Mapping[str, Any], now: _dt.datetime | None = None) -> list[str]:
    """The HTML cells of one commit: id, message (with tags), time, branch, metrics."""
    chips = "".join(f'<span style="{_CHIP}">{escape(t)}</span>' for t in _decorations(commit))
    if commit.get("status", "ok") != "ok":
        chips += f" {_status_html(str(commit['status']))}"
    time = str(commit.get("time", ""))
    hover = absolute_time(time)
    if commit.get("author"):
        hover += f" by {commit['author']}"
    short = str(commit.get("short_id") or str(commit.get("id", ""))[:8])
    message = str(commit.get("message") or "")
    first_line = message.partition("\n")[0]
    message_title = f' title="{escape(message)}"' if first_line != message else ""
    return [
        f'<span style="{_MONO}color:var(--jp-brand-color1,#1976d2)" '
        f'title="{escape(str(commit.get("id", "")))}">{escape(short)}</span>',
        f"<span{message_title}>{escape(first_line)}</span>{chips}",
        f'<span title="{escape(hover)}" style="white-space:nowrap">'
        f"{escape(relative_time(time, now))}</span>",
        escape(str(commit.get("branch") or "")),
        escape(headline_metrics(commit.get("metrics") or {})),
    ]


#: Column headings of a history view.
LOG_COLUMNS = ("Commit", "Message", "When", "Branch", "Metrics")


def render_log_html(
    commits: Sequence[Mapping[str, Any]],
    *,
    limit: int = LOG_PAGE,
    now: _dt.datetime | None = None,
) -> str:
    """A ``<table>`` of the newest ``limit`` commits, with a note on the ones left out."""
    if not commits:
        return f'<div style="{_FONT}{_MUTED}">No commits yet.</div>'
    rows = [
        "<tr>"
        + "".join(
            f'<td style="{_TD}{"" if i == 1 else "white-space:nowrap;"}">{c}</td>'
            for i, c in enumerate(log_row_cells(commit, now))
        )
        + "</tr>"
        for commit in commits[:limit]
    ]
    out = _table(LOG_COLUMNS, rows, "Commits")
    if len(commits) > limit:
        out += (
            f'<div style="{_FONT}{_MUTED}">Showing the newest {limit} of {len(commits)} '
            "commits.</div>"
        )
    return out


def _columns(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def render_log_text(
    commits: Sequence[Mapping[str, Any]],
    *,
    limit: int = LOG_PAGE,
    now: _dt.datetime | None = None,
) -> str:
    """The history as aligned plain-text columns (the ``text/plain`` fallback)."""
    if not commits:
        return "No commits yet."
    rows: list[list[str]] = [list(LOG_COLUMNS)]
    for c in commits[:limit]:
        message = str(c.get("message", "")).splitlines()[0] if c.get("message") else ""
        tags = _decorations(c)
        if tags:
            message += f" [{', '.join(tags)}]"
        if c.get("status", "ok") != "ok":
            message += f" ({c['status']})"
        rows.append(
            [
                str(c.get("short_id") or str(c.get("id", ""))[:8]),
                message,
                relative_time(str(c.get("time", "")), now),
                str(c.get("branch") or ""),
                headline_metrics(c.get("metrics") or {}),
            ]
        )
    lines = _columns(rows)
    if len(commits) > limit:
        lines.append(f"(showing the newest {limit} of {len(commits)} commits)")
    return "\n".join(lines)


# -- diff --------------------------------------------------------------------------------
# A diff is rendered as sections of lines (name, status, detail) plus what stayed the
# same; the HTML and the text views are two layouts of the same sections.

#: Phrases of a change that must not wrap inside.
_NO_BREAK = re.compile(r"(max \|Δ\| [^\s,·]+)")

#: Statuses whose name is shown before the detail ("added: 0.3").
_NAMED_STATUSES = ("added", "removed", "skipped", "unchanged")


class Section:
    """One section of a diff view: the changed lines and a summary of the unchanged.

    Attributes:
        title: the section heading (``Params``, ``Variables``...).
        lines: ``(name, status, detail)`` per changed item, in plain text.
        unchanged: how many items did not change.
        unchanged_names: their names (empty where only the count is known).
    """

    __slots__ = ("lines", "title", "unchanged", "unchanged_names")

    def __init__(
        self,
        title: str,
        lines: list[tuple[str, str, str]],
        unchanged_names: list[str] | None = None,
        unchanged: int | None = None,
    ) -> None:
        self.title = title
        self.lines = lines
        self.unchanged_names = unchanged_names or []
        self.unchanged = len(self.unchanged_names) if unchanged is None else unchanged


def _change_text(e: Mapping[str, Any]) -> str:
    status = e.get("status")
    if status == "added":
        return format_value(e.get("b"))
    if status == "removed":
        return format_value(e.get("a"))
    text = f"{format_value(e.get('a'))} → {format_value(e.get('b'))}"
    if "delta" in e:
        text += f" ({format_delta(e['delta'])})"
    return text


def _short_type(t: Any) -> str:
    return str(t).rsplit(".", 1)[-1] if t else "?"


def _var_kind(v: Mapping[str, Any] | None) -> str:
    if not v:
        return ""
    parts = [_short_type(v.get("type"))]
    if v.get("dtype"):
        parts.append(str(v["dtype"]))
    shape = v.get("shape")
    if isinstance(shape, list):
        inner = ", ".join(str(s) for s in shape)
        parts.append(f"({inner},)" if len(shape) == 1 else f"({inner})")
    return " ".join(parts)


def _listed(names: Sequence[Any]) -> str:
    shown = ", ".join(str(n) for n in names[:_MAX_LISTED])
    return shown + (f" +{len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else "")


def _numeric(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


#: Variable kinds whose diff is told by the service's semantic ``lines``.
_SEMANTIC = frozenset({"estimator", "boosting", "tensor", "tensors", "frame", "keras", "container"})


def variable_change(e: Mapping[str, Any]) -> str:
    """What changed in one variable, in words: type, shape, values, parts, model params.

    For ``added`` and ``removed`` variables this is what the variable is (or was); the
    status itself is not repeated.
    """
    a, b = e.get("a") or {}, e.get("b") or {}
    status = e.get("status")
    if status == "added":
        value = f" = {format_value(b['value'])}" if "value" in b else ""
        return f"{_var_kind(b)}{value}"
    if status == "removed":
        return _var_kind(a)
    if status == "unchanged":
        return "unchanged"
    ka, kb = _var_kind(a), _var_kind(b)
    parts = [ka if ka == kb else f"{ka} → {kb}"]
    if e.get("kind") in _SEMANTIC and e.get("lines"):
        # a model, frame or container: its own words (hyperparameters old → new, the
        # tensors that changed, columns, leaves) say more than parts and bytes
        parts.extend(str(line).replace(" -> ", " → ") for line in e["lines"][:_MAX_LISTED])
        return " · ".join(p for p in parts if p)
    if "value" in a or "value" in b:
        va: Any = a.get("value")
        vb: Any = b.get("value")
        value = f"{format_value(va)} → {format_value(vb)}"
        if _numeric(va) and _numeric(vb):
            value += f" ({format_delta(vb - va)})"
        parts.append(value)
    if "fraction_changed" in e:
        text = f"{_percent(float(e['fraction_changed']))} of values changed"
        mad = e.get("max_abs_diff")
        if _numeric(mad) and mad:
            text += f", max |Δ| {'inf' if math.isinf(mad) else f'{mad:.4g}'}"
        parts.append(text)
    parts.extend(f"{p['key']} {_change_text(p)}" for p in e.get("params") or [])
    fitted = e.get("fitted_changed")
    if fitted:
        parts.append(f"fitted {_listed(fitted)} changed")
    seg_total = int(e.get("segments_total") or 0)
    segs = e.get("segments_changed") or []
    # An array's header and data are two parts: its values already say more.
    if seg_total > 1 and segs and "fraction_changed" not in e:
        text = f"{len(segs)} of {seg_total} parts changed ({_listed(segs)})"
        if "bytes_changed" in e:
            text += (
                f", {_percent(float(e.get('fraction_bytes_changed', 0)))} of bytes: "
                f"{format_bytes(int(e['bytes_changed']))} new"
            )
        parts.append(text)
    if e.get("value_error"):
        parts.append(f"values not compared: {e['value_error']}")
    return " · ".join(p for p in parts if p)


def _keyed(title: str, entries: Sequence[Mapping[str, Any]]) -> Section:
    lines, same = [], []
    for e in entries:
        key = str(e.get("key"))
        if e.get("status") == "unchanged":
            same.append(f"{key} = {format_value(e.get('a'))}")
        else:
            lines.append((key, str(e.get("status")), _change_text(e)))
    return Section(title, lines, same)


def _variables(diff: Mapping[str, Any]) -> Section:
    lines, same = [], []
    for e in diff.get("variables") or []:
        if e.get("status") == "unchanged":
            same.append(str(e.get("name")))
        else:
            lines.append((str(e.get("name")), str(e.get("status")), variable_change(e)))
    skipped = diff.get("skipped") or {}
    for side in ("b", "a"):
        for name, reason in (skipped.get(side) or {}).items():
            lines.append((str(name), "skipped", f"in {side.upper()}: {reason}"))
    return Section("Variables", lines, same)


def _short_hash(h: Any) -> str:
    return f"{str(h)[:8]}…" if h else "?"


def _data(diff: Mapping[str, Any]) -> Section:
    lines, same = [], []
    for e in diff.get("data") or []:
        path, status = str(e.get("path")), str(e.get("status"))
        a, b = e.get("a") or {}, e.get("b") or {}
        if status == "unchanged":
            same.append(path)
            continue
        if status == "added":
            text = f"{_short_hash(b.get('hash'))} {format_bytes(int(b.get('size') or 0))}"
        elif status == "removed":
            text = _short_hash(a.get("hash"))
        else:
            text = f"{_short_hash(a.get('hash'))} → {_short_hash(b.get('hash'))}"
            sa, sb = a.get("size"), b.get("size")
            if isinstance(sa, int) and isinstance(sb, int) and sa != sb:
                text += f" ({format_bytes(sa)} → {format_bytes(sb)})"
        lines.append((path, status, text))
    return Section("Data", lines, same)


def _changed_only(title: str, block: Mapping[str, Any] | None) -> Section:
    block = block or {}
    lines = [
        (str(e.get("key")), str(e.get("status")), _change_text(e))
        for e in block.get("changed") or []
    ]
    return Section(title, lines, unchanged=int(block.get("unchanged") or 0))


def _notebook(diff: Mapping[str, Any]) -> Section:
    nb = diff.get("notebook") or {}
    status = str(nb.get("status", "none"))
    path_a, path_b = nb.get("path_a"), nb.get("path_b")
    name = str(path_b or path_a or "notebook")
    lines: list[tuple[str, str, str]] = []
    if path_a and path_b and path_a != path_b:
        lines.append((name, "changed", f"renamed {path_a} → {path_b}"))
    if status in ("added", "removed"):
        lines.append((name, status, ""))
    elif status == "changed":
        cells = nb.get("cells") or {}
        counts = [
            f"{cells[k]} {'cell' if cells[k] == 1 else 'cells'} {label}"
            for k, label in (
                ("added", "added"),
                ("removed", "removed"),
                ("modified", "modified"),
                ("outputs_changed", "with new outputs"),
            )
            if cells.get(k)
        ]
        if counts:
            text = ", ".join(counts)
        elif "diff" in nb:
            text = "metadata changed"
        else:
            text = "changed (cells not compared)"
        if nb.get("limit"):
            text += f"; {nb['limit']}"
        elif nb.get("hint"):
            text += f"; {nb['hint']}"
        lines.append((name, "changed", text))
    if status == "unchanged" and not lines:
        lines.append((name, "unchanged", ""))
    return Section("Notebook", lines)


def _sources(diff: Mapping[str, Any]) -> Section:
    lines = [
        (
            str(e.get("path")),
            str(e.get("status")),
            "" if e.get("status") != "changed" else "changed",
        )
        for e in diff.get("sources") or []
    ]
    return Section("Sources", lines)


def diff_sections(diff: Mapping[str, Any]) -> list[Section]:
    """The sections of a diff that have something to show, in display order."""
    sections = [
        _keyed("Params", diff.get("params") or []),
        _keyed("Metrics", diff.get("metrics") or []),
        _variables(diff),
        _data(diff),
        _notebook(diff),
        _sources(diff),
        _changed_only("Environment", diff.get("env")),
        _changed_only("Hardware", diff.get("hardware")),
    ]
    return [s for s in sections if s.lines or s.unchanged]


def _side(side: Mapping[str, Any] | None) -> tuple[str, str]:
    side = side or {}
    short = str(side.get("short_id") or str(side.get("id", ""))[:8])
    return short, str(side.get("message") or "").partition("\n")[0]


def _side_title(side: Mapping[str, Any] | None) -> str:
    return " ".join(_side(side)).strip()


def _side_html(side: Mapping[str, Any] | None) -> str:
    short, message = _side(side)
    return f'<span style="{_MONO}">{escape(short)}</span> {escape(message)}'.strip()


def _detail_text(status: str, detail: str) -> str:
    if status in _NAMED_STATUSES:
        return f"{status}: {detail}" if detail else status
    return detail


def _unchanged_html(section: Section) -> str:
    if not section.unchanged_names:
        return f'<span style="{_MUTED}">{section.unchanged} unchanged</span>'
    return (
        f'<details style="{_MUTED}"><summary style="cursor:pointer">'
        f"{section.unchanged} unchanged</summary>"
        f"{escape(', '.join(section.unchanged_names))}</details>"
    )


def render_diff_html(diff: Mapping[str, Any]) -> str:
    """The diff as an HTML table, one block of rows per section with something to show.

    Changed values read ``a → b (+delta)``; added, removed and skipped items carry their
    status in color; unchanged items are counted (and listed behind a disclosure).
    """
    head = (
        f'<div style="{_FONT}margin:2px 0 4px"><strong>Diff</strong> '
        f"{_side_html(diff.get('a'))} → {_side_html(diff.get('b'))}</div>"
    )
    rows: list[str] = []
    for section in diff_sections(diff):
        cells = [
            (
                f'<span style="{_MONO}">{escape(name)}</span>',
                (f"{_status_html(status)} " if status in _NAMED_STATUSES else "")
                + _NO_BREAK.sub(r'<span style="white-space:nowrap">\1</span>', escape(detail)),
            )
            for name, status, detail in section.lines
        ]
        if section.unchanged:
            cells.append(("", _unchanged_html(section)))
        for i, (name_html, change_html) in enumerate(cells):
            top = f"border-top:{_BORDER};" if i == 0 and rows else ""
            title = escape(section.title) if i == 0 else ""
            rows.append(
                f'<tr style="background:none"><th scope="row" style="{_SECTION}{top}">{title}</th>'
                f'<td style="{_TD}{top}">{name_html}</td>'
                f'<td style="{_TD}{top}">{change_html}</td></tr>'
            )
    if not rows:
        return head + f'<div style="{_FONT}{_MUTED}">No differences.</div>'
    return (
        head + f'<table style="{_TABLE}" aria-label="Diff"><tbody>{"".join(rows)}</tbody></table>'
    )


def render_diff_text(diff: Mapping[str, Any]) -> str:
    """The diff as aligned plain text (the ``text/plain`` fallback)."""
    out = [f"Diff {_side_title(diff.get('a'))} → {_side_title(diff.get('b'))}"]
    rows: list[list[str]] = []
    for section in diff_sections(diff):
        titles = iter([section.title])
        for name, status, detail in section.lines:
            rows.append([next(titles, ""), name, _detail_text(status, detail)])
        if section.unchanged:
            rows.append([next(titles, ""), "", f"{section.unchanged} unchanged"])
    out.extend(_columns(rows) if rows else ["No differences."])
    return plain("\n".join(out))


# -- terminal views (CLI, and the magics without widgets) -----------------------------
def kv_text(m: Mapping[str, Any]) -> str:
    """``k=v`` pairs, floats to 4 significant digits."""
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in m.items())


#: Control characters (ANSI escapes included) a terminal would act on; user strings in
#: the text views have them replaced, so a commit message cannot rewrite the screen.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(text: Any) -> str:
    """``text`` with terminal control characters shown as ``?`` (tabs and newlines kept)."""
    return _CONTROL.sub("?", str(text))


def log_text(commits: Sequence[Mapping[str, Any]]) -> str:
    """The history as ``mlvc log`` and the magics print it: two lines per commit."""
    if not commits:
        return "No commits yet."
    out: list[str] = []
    for c in commits:
        deco = [*c.get("branches", []), *(f"tag:{t}" for t in c.get("tags", []))]
        d = f" ({', '.join(deco)})" if deco else ""
        nb = f" [{c['notebook']}]" if c.get("notebook") else ""
        failed = " [failed]" if c.get("status") == "failed" else ""
        kind = f" [{c['kind']}]" if c.get("kind") else ""
        first = c["message"].splitlines()[0] if c.get("message") else ""
        out.append(plain(f"{c['short_id']}{d}{failed}{kind} {first}"))
        line = plain(f"    {c['time']} {c['author']}{nb}")
        if c.get("metrics"):
            line += "  " + kv_text(c["metrics"])
        out.append(line)
    return "\n".join(out)


def show_text(r: Mapping[str, Any]) -> str:
    """A commit's record as ``mlvc show`` prints it."""
    out: list[str] = []
    add = out.append
    add(f"commit {r['id']}")
    add(f"Author: {r.get('author')} <{r.get('email', '')}>")
    add(f"Date:   {r.get('time')}")
    if r.get("notebook"):
        add(f"Notebook: {r['notebook']} (branch {r.get('branch')})")
    if r.get("status") == "failed":
        err = r.get("error") or {}
        where = f" in cell {err['cell']}" if err.get("cell") is not None else ""
        add(f"Status: failed{where}: {err.get('ename', '')}: {err.get('evalue', '')}")
    add(f"\n    {r.get('message', '')}\n")
    for key in ("params", "metrics"):
        if r.get(key):
            add(f"{key.capitalize()}: {kv_text(r[key])}")
    if r.get("variables"):
        add("Variables:")
        for name, v in r["variables"].items():
            shape = f" {v['shape']}" if "shape" in v else ""
            dtype = f" {v['dtype']}" if "dtype" in v else ""
            fmt = f"[{v['format']}, {format_bytes(v['size'])}]"
            add(f"  {name}: {v.get('type')}{shape}{dtype} {fmt}")
    for name, why in r.get("skipped", {}).items():
        add(f"  skipped {name}: {why}")
    if r.get("data"):
        add("Data:")
        for path, d in r["data"].items():
            add(f"  {path}: {d['hash'][:20]}... {format_bytes(d['size'])}")
    if r.get("outputs"):
        add("Outputs (files written):")
        for path, d in r["outputs"].items():
            add(f"  {path}: {d['hash'][:20]}... {format_bytes(d['size'])}")
    if r.get("sources"):
        add("Sources: " + ", ".join(r["sources"]))
    return plain("\n".join(out))


# -- data files (service.data) -------------------------------------------------------------
def data_diff_text(d: Mapping[str, Any]) -> str:
    """A data diff (:func:`mlvc_server.service.data_diff`) as text."""
    lines = [f"data {str(d['a'])[:8]}..{str(d['b'])[:8]}"]
    if not d["files"]:
        lines.append("  no data file changed")
    for f in d["files"]:
        sa = "-" if f["size_a"] is None else format_bytes(f["size_a"])
        sb = "-" if f["size_b"] is None else format_bytes(f["size_b"])
        lines.append(f"  {f['status']:<8} {f['path']}  {sa} -> {sb}")
        schema = f.get("schema") or {}
        if schema.get("added"):
            lines.append(f"           columns added: {', '.join(schema['added'])}")
        if schema.get("removed"):
            lines.append(f"           columns removed: {', '.join(schema['removed'])}")
        for col, (ta, tb) in (schema.get("changed") or {}).items():
            lines.append(f"           column {col}: {ta} -> {tb}")
        rows = f.get("rows")
        if rows:
            text = f"           rows {rows['a'] if rows['a'] is not None else '-'} -> "
            text += f"{rows['b'] if rows['b'] is not None else '-'}: "
            text += f"+{rows['added']} -{rows['removed']}"
            if "changed" in rows:
                text += f" ~{rows['changed']} (by {rows['key']})"
            lines.append(text)
        if f.get("note"):
            lines.append(f"           ({f['note']})")
    return "\n".join(lines)


def data_checkout_text(r: Mapping[str, Any], undo: str = "mlvc data undo") -> str:
    """A data checkout (:func:`mlvc_server.service.data_checkout`) as text; ``undo``:
    the command that undoes it, as the front end spells it."""
    verb = "Would write" if r["dry_run"] else "Wrote"
    lines = []
    for path in r["restored"]:
        copy = r["safety_copies"].get(path)
        lines.append(f"{verb} {path}" + (f" (current file kept as {copy})" if copy else ""))
    if r["unchanged"]:
        lines.append(f"Already as in {str(r['commit'])[:8]}: {', '.join(r['unchanged'])}")
    if r["not_captured"]:
        lines.append("Not captured (only hashed) in that commit: " + ", ".join(r["not_captured"]))
    if not r["restored"]:
        lines.append("Nothing to write.")
    else:
        lines.append(
            f"{len(r['restored'])} file(s), {format_bytes(r['bytes'])} from {str(r['commit'])[:8]}"
        )
    if r.get("safety"):
        lines.append(f"To put them back as they were: {undo} {r['safety']}")
    return "\n".join(lines)


def data_undo_text(r: Mapping[str, Any]) -> str:
    """An undone data checkout (:func:`mlvc_server.service.data_undo`) as text."""
    lines = [
        f"Put back as before the checkout of {str(r['commit'])[:8]}: {p}" for p in r["put_back"]
    ]
    lines += [f"Removed (the checkout had created it): {p}" for p in r["removed"]]
    lines += [f"Left alone: {p} ({why})" for p, why in r["left_alone"].items()]
    if not lines:
        lines.append("Nothing to put back.")
    return "\n".join(lines)


def content_settings_text(s: Mapping[str, Any]) -> str:
    """What commits capture the content of (:func:`mlvc_server.service.content_settings`)."""
    lines = [f"content {p}" for p in s["patterns"]] or ["No content patterns."]
    if s["max_bytes"]:
        where = " (MLVC_DATA_CONTENT_MAX)" if s["max_bytes_from"] == "env" else ""
        lines.append(f"content of every data file up to {format_bytes(s['max_bytes'])}{where}")
    return "\n".join(lines)


# -- evaluations of two model versions ----------------------------------------------------
def _num(v: Any, signed: bool = False) -> str:
    if v is None:
        return "-"
    return f"{v:+.4g}" if signed else f"{v:.4g}"


def _version(report: Mapping[str, Any], side: str) -> str:
    v = report.get(side) or {}
    return f"{v.get('rev', '?')} ({str(v.get('commit', ''))[:8]}, {v.get('variable', '?')})"


def _metric_rows(metrics: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    for m, c in metrics.items():
        if "error" in c:
            rows.append([m, "-", "-", "-", "-", c["error"]])
            continue
        ci = c["ci"]
        better = {"b": "B better", "a": "A better"}.get(c.get("better") or "", "no difference")
        rows.append(
            [
                m,
                _num(c["a"]),
                _num(c["b"]),
                _num(c["diff"], True),
                f"[{_num(ci[0], True)}, {_num(ci[1], True)}]",
                f"p={c['p_value']:.3g} {better}",
            ]
        )
    return rows


def _methods(metrics: Mapping[str, Any]) -> list[str]:
    return [
        f"{m}: interval {c['ci_method']}; test {c['test']}"
        for m, c in metrics.items()
        if "error" not in c
    ]


def evaluation_text(report: Mapping[str, Any]) -> str:
    """An evaluation (``evaluate``, ``shadow`` or ``canary``) as the CLI prints it."""
    kind = report.get("type", "evaluate")
    data = report.get("data") or {}
    out = [
        f"{kind} A = {_version(report, 'a')}",
        f"{' ' * len(kind)} B = {_version(report, 'b')}",
        f"data {data.get('path')} ({data.get('rows')} rows, {str(data.get('hash', ''))[:20]}...)",
    ]
    if report.get("id"):
        out.append(f"recorded as {str(report['id'])[:8]}")
    out.append("")
    if kind == "evaluate":
        level = report["settings"]["level"]
        head = ["metric", "A", "B", "B - A", f"{level:.0%} CI", "test"]
        rows = _metric_rows(report["metrics"])
        out.extend(_columns([head, *rows]))
        for s in report.get("slices", []):
            out.append(f"\nslice {s['column']} = {s['value']} ({s['rows']} rows)")
            out.extend(_columns([head, *_metric_rows(s["metrics"])]))
        out.append("\nmethods:")
        out.extend(f"  {line}" for line in _methods(report["metrics"]))
    elif kind == "shadow":
        d, s, lat = report["disagreement"], report["shift"], report["latency"]
        out.append(f"disagreement: {d['rate']:.2%} ({d['rows']} rows; {d['basis']})")
        ks = "" if s["ks"] is None else f", KS {s['ks']:.4f} (p={s['ks_p_value']:.3g})"
        out.append(f"shift of the {s['basis']}: PSI {s['psi']:.4f}{ks}")
        for side in ("A", "B"):
            la = lat[side]
            if la.get("calls"):
                out.append(
                    f"latency {side}: p50 {la['p50_ms']:.3g} ms, p90 {la['p90_ms']:.3g} ms, "
                    f"p99 {la['p99_ms']:.3g} ms ({la['calls']} one-row calls)"
                )
        if report.get("top"):
            out.append("\nrows where they disagree most:")
            for r in report["top"]:
                out.append(f"  row {r['row']}: A {r['a']!r} B {r['b']!r} (gap {r['gap']:.4g})")
        out.append(f"\nmethods: {s['psi_method']}; {s['ks_method']}; {lat['method']}")
    elif kind == "canary":
        st, end = report["settings"], report["at_end"]
        out.append(
            f"routed {report['routed_rows']} of {data.get('rows')} rows to B "
            f"(fraction {st['fraction']}, seed {st['seed']}); guard {st['guard']}"
        )
        out.append(
            f"accuracy on the routed rows: A {end['accuracy_a']:.4f}, B {end['accuracy_b']:.4f}"
        )
        out.append(f"method: {report['method']}")
    out.append("")
    out.append(f"verdict: {report['verdict']['text']}")
    return "\n".join(out)


def _ci_bar(c: Mapping[str, Any], scale: float) -> str:
    """An inline bar of a difference's interval around 0 (B better to the right)."""
    if "error" in c or scale <= 0:
        return ""
    flip = -1.0 if c.get("lower_is_better") else 1.0
    lo, hi = sorted((flip * c["ci"][0], flip * c["ci"][1]))
    w = 160

    def x(v: float) -> float:
        return max(0.0, min(w, w / 2 + v / scale * (w / 2)))

    color = {"b": "var(--jp-success-color1,#388e3c)", "a": "var(--jp-error-color1,#d32f2f)"}
    fill = color.get(c.get("better") or "", "var(--jp-ui-font-color2,#616161)")
    return (
        f'<svg width="{w}" height="12" role="img" aria-label="interval of B - A">'
        f'<line x1="{w / 2}" y1="0" x2="{w / 2}" y2="12" stroke="currentColor" '
        'stroke-opacity="0.4"/>'
        f'<rect x="{x(lo):.1f}" y="3" width="{max(1.0, x(hi) - x(lo)):.1f}" height="6" '
        f'fill="{fill}"/><circle cx="{x(flip * c["diff"]):.1f}" cy="6" r="2.5" '
        f'fill="{fill}"/></svg>'
    )


def _metrics_table_html(metrics: Mapping[str, Any], level: float, label: str) -> str:
    scale = max([abs(v) for c in metrics.values() if "error" not in c for v in c["ci"]] or [0.0])
    rows = []
    for cells, (m, c) in zip(_metric_rows(metrics), metrics.items(), strict=True):
        tds = "".join(f'<td style="{_TD}{_MONO}">{escape(v)}</td>' for v in cells[1:])
        rows.append(
            f'<tr><td style="{_TD}">{escape(m)}</td>{tds}'
            f'<td style="{_TD}">{_ci_bar(c, scale)}</td></tr>'
        )
    head = ["metric", "A", "B", "B - A", f"{level:.0%} CI", "test", "B - A (better ->)"]
    return _table(head, rows, label)


def evaluation_html(report: Mapping[str, Any]) -> str:
    """An evaluation as the notebook shows it (the text view is its plain fallback)."""
    kind = report.get("type", "evaluate")
    verdict = report.get("verdict", {})
    color = {"b": "var(--jp-success-color1,#388e3c)", "a": "var(--jp-error-color1,#d32f2f)"}
    vstyle = f"font-weight:600;color:{color.get(verdict.get('better') or '', 'inherit')}"
    parts = [
        f'<div style="{_FONT}" class="mlvc-evaluation">',
        f"<div><b>{escape(kind)}</b> A = {escape(_version(report, 'a'))}<br>"
        f"B = {escape(_version(report, 'b'))}</div>",
        f'<div style="{vstyle}">{escape(verdict.get("text", ""))}</div>',
    ]
    if kind == "evaluate":
        level = report["settings"]["level"]
        parts.append(_metrics_table_html(report["metrics"], level, "evaluation metrics"))
        for s in report.get("slices", []):
            parts.append(
                f'<div style="{_MUTED}">slice {escape(str(s["column"]))} = '
                f"{escape(str(s['value']))} ({s['rows']} rows)</div>"
            )
            parts.append(_metrics_table_html(s["metrics"], level, f"slice {s['value']}"))
        methods = _methods(report["metrics"])
        parts.append(f'<div style="{_MUTED}">' + "<br>".join(escape(m) for m in methods) + "</div>")
    else:
        text = evaluation_text(report).split("\n\n", 1)[-1]
        parts.append(f'<pre style="{_MONO}">{escape(text)}</pre>')
    parts.append("</div>")
    return "".join(parts)


def evaluations_text(entries: Sequence[Mapping[str, Any]]) -> str:
    """The stored evaluations, one line each, as ``mlvc evaluations`` prints them."""
    if not entries:
        return "no evaluations"
    rows = [
        [
            e["short_id"],
            e["type"],
            str(e.get("a", {}).get("commit", ""))[:8],
            str(e.get("b", {}).get("commit", ""))[:8],
            e["time"],
            str((e.get("verdict") or {}).get("text", ""))[:100],
        ]
        for e in entries
    ]
    return "\n".join(_columns([["id", "type", "A", "B", "time", "verdict"], *rows]))


def _cell(v: Any) -> str:
    if v is None:
        return ""
    return format_value(v) if not isinstance(v, str) else v


def compare_rows(table: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The compare table (``service.compare``) as a header and rows of text cells; the
    best value of each metric is marked with ``*``."""
    params = list(table["columns"]["params"])
    metrics = list(table["columns"]["metrics"])
    best = table.get("best", {})
    head = ["commit", "branch", *(f"params.{p}" for p in params)]
    head += [
        f"metrics.{m}" + (" (min)" if best.get(m, {}).get("goal") == "min" else "") for m in metrics
    ]
    out: list[list[str]] = []
    for r in table["rows"]:
        cells = [str(r.get("short_id") or ""), str(r.get("branch") or "")]
        cells += [_cell(r["params"].get(p)) for p in params]
        for m in metrics:
            text = _cell(r["metrics"].get(m))
            if m in best and r["id"] in best[m]["ids"]:
                text += " *"
            cells.append(text)
        out.append(cells)
    return head, out


def compare_text(table: Mapping[str, Any]) -> str:
    """The compare table as ``mlvc compare`` prints it: aligned columns, ``*`` marks the
    best value of each metric (highest, or lowest for a ``(min)`` metric)."""
    if not table["rows"]:
        return "No commits to compare."
    head, rows = compare_rows(table)
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=False)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=False)).rstrip()
        for line in (head, *rows)
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def compare_csv(table: Mapping[str, Any]) -> str:
    """The compare table as CSV: one row per commit, full ids, raw values (no marks)."""
    import csv
    import io

    params = list(table["columns"]["params"])
    metrics = list(table["columns"]["metrics"])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "id",
            "branch",
            "time",
            "message",
            *(f"params.{p}" for p in params),
            *(f"metrics.{m}" for m in metrics),
        ]
    )
    for r in table["rows"]:
        w.writerow(
            [r["id"], r.get("branch") or "", r.get("time") or "", r.get("message") or ""]
            + ["" if r["params"].get(p) is None else r["params"][p] for p in params]
            + ["" if r["metrics"].get(m) is None else r["metrics"][m] for m in metrics]
        )
    return buf.getvalue()


def compare_html(table: Mapping[str, Any]) -> str:
    """The compare table as HTML (the magics' view); the best value of each metric is in
    bold with a ``*``."""
    if not table["rows"]:
        return f'<div style="{_FONT}{_MUTED}">No commits to compare.</div>'
    head, rows = compare_rows(table)
    body = []
    for cells in rows:
        tds = "".join(
            f'<td style="{_TD}{"font-weight:600;" if c.endswith(" *") else ""}">{escape(c)}</td>'
            for c in cells
        )
        body.append(f"<tr>{tds}</tr>")
    return _table(head, body, "Compare")


#: The most params x metrics pairs drawn by :func:`compare_vegalite` (a grid of charts).
MAX_PLOT_PAIRS = 24


def compare_vegalite(table: Mapping[str, Any], kind: str = "scatter") -> dict[str, Any]:
    """A Vega-Lite v5 spec of the compare table, for ``%mlvc compare --plot`` and the
    panel's Compare view.

    ``kind`` ``"scatter"``: each numeric param against each numeric metric (one chart
    per pair, at most :data:`MAX_PLOT_PAIRS`; with no numeric param, each metric per
    run). ``"parallel"``: parallel coordinates, one line per run across every numeric
    param and metric (each axis scaled to its own min..max, which label its ends).
    Both colour by branch, name the run in their tooltips and carry each run's full
    ``id`` (the panel selects the run clicked); the runs whose ids the top-level param
    :data:`SELECTED_PARAM` holds are outlined (the panel sets it; empty here).

    Raises:
        ValueError: an unknown ``kind``.
    """
    if kind not in ("scatter", "parallel"):
        raise ValueError(f"unknown chart kind {kind!r} (scatter or parallel)")

    def numeric(section: str, name: str) -> bool:
        vals = [r[section].get(name) for r in table["rows"]]
        nums = [v for v in vals if isinstance(v, int | float) and not isinstance(v, bool)]
        return bool(nums)

    params = [p for p in table["columns"]["params"] if numeric("params", p)]
    metrics = [m for m in table["columns"]["metrics"] if numeric("metrics", m)]
    if kind == "parallel":
        return _parallel_vegalite(table, params, metrics)
    values = [
        {
            "id": r.get("id"),
            "run": r.get("short_id"),
            "message": r.get("message"),
            "branch": r.get("branch"),
            **{f"params.{p}": r["params"].get(p) for p in params},
            **{f"metrics.{m}": r["metrics"].get(m) for m in metrics},
        }
        for r in table["rows"]
    ]
    tooltip = [
        {"field": "run", "type": "nominal"},
        {"field": "branch", "type": "nominal"},
        {"field": "message", "type": "nominal"},
        *({"field": f"params.{p}", "type": "quantitative"} for p in params),
        *({"field": f"metrics.{m}", "type": "quantitative"} for m in metrics),
    ]
    color = {"field": "branch", "type": "nominal", "title": "branch"}

    def field(name: str) -> str:
        return name.replace(".", "\\.")  # a dot in a Vega-Lite field name nests

    mark = {"type": "point", "filled": True, "size": 70, "cursor": "pointer"}
    charts: list[dict[str, Any]] = []
    if params:
        pairs = [(p, m) for m in metrics for p in params][:MAX_PLOT_PAIRS]
        for p, m in pairs:
            charts.append(
                {
                    "title": f"{m} vs {p}",
                    "mark": mark,
                    "encoding": {
                        "x": {
                            "field": field(f"params.{p}"),
                            "type": "quantitative",
                            "title": f"params.{p}",
                            "scale": _scale(table, "params", p),
                        },
                        "y": {
                            "field": field(f"metrics.{m}"),
                            "type": "quantitative",
                            "title": f"metrics.{m}",
                            "scale": {"zero": False},
                        },
                        "color": color,
                        **_SELECTED_OUTLINE,
                        "tooltip": [{**t, "field": field(t["field"])} for t in tooltip],
                    },
                }
            )
    else:
        for m in metrics[:MAX_PLOT_PAIRS]:
            charts.append(
                {
                    "title": m,
                    "mark": mark,
                    "encoding": {
                        "x": {"field": "run", "type": "nominal", "sort": None, "title": "run"},
                        "y": {
                            "field": field(f"metrics.{m}"),
                            "type": "quantitative",
                            "title": f"metrics.{m}",
                            "scale": {"zero": False},
                        },
                        "color": color,
                        **_SELECTED_OUTLINE,
                        "tooltip": [{**t, "field": field(t["field"])} for t in tooltip],
                    },
                }
            )
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "description": "mlvc compare: params against metrics, one point per run",
        "data": {"values": values},
        "params": _SELECTED_PARAMS,
        "columns": 3,
        "concat": charts,
    }


# -- lineage (service.lineage) ----------------------------------------------------------------
#: Characters kept as they are in a Mermaid label; every other one is written as an
#: entity code (``#34;``), so no label can end the string, start a link or inject markup.
_MERMAID_SAFE = re.compile(r"[A-Za-z0-9 ._/:@,+=-]")
_MERMAID_LABEL_CHARS = 80
#: Mermaid node shapes per kind: (open, close).
_MERMAID_SHAPES = {
    "commit": ('["', '"]'),
    "data": ('[("', '")]'),
    "source": ('[/"', '"/]'),
    "model": ('{{"', '"}}'),
    "alias": ('(["', '"])'),
    "export": ('[["', '"]]'),
}


def mermaid_text(text: Any, limit: int = _MERMAID_LABEL_CHARS) -> str:
    """``text`` as the inside of a quoted Mermaid label: one line, at most ``limit``
    characters, anything but letters, digits, spaces and ``._/:@,+=-`` as entity codes."""
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "\u2026"
    return "".join(ch if _MERMAID_SAFE.fullmatch(ch) else f"#{ord(ch)};" for ch in flat)


def _short_content(h: Any) -> str:
    text = str(h or "")
    algo, _, digest = text.partition(":")
    return f"{algo}:{digest[:12]}" if digest else text[:16]


def _lineage_label(node: Mapping[str, Any]) -> str:
    kind = node.get("kind")
    if kind == "data":
        size = node.get("size")
        extra = f", {format_bytes(size)}" if isinstance(size, int) else ""
        return f"{node.get('path')} ({_short_content(node.get('hash'))}{extra})"
    if kind == "model":
        return f"model {node.get('name')} v{node.get('version')}"
    if kind == "alias":
        return f"{node.get('name')}@{node.get('alias')}"
    if kind == "source":
        return f"{node.get('path')}"
    return str(node.get("label", node.get("id", "")))


def lineage_mermaid(lin: Mapping[str, Any]) -> str:
    """A lineage graph as a Mermaid flowchart (data flows left to right). Node ids are
    ``n0``, ``n1``... and every label is escaped (:func:`mermaid_text`)."""
    ids = {n["id"]: f"n{i}" for i, n in enumerate(lin.get("nodes", []))}
    out = ["flowchart LR"]
    for n in lin.get("nodes", []):
        opening, closing = _MERMAID_SHAPES.get(n.get("kind", ""), ('["', '"]'))
        out.append(f"  {ids[n['id']]}{opening}{mermaid_text(_lineage_label(n))}{closing}")
    for e in lin.get("edges", []):
        a, b = ids.get(e["from"]), ids.get(e["to"])
        if a and b:
            out.append(f"  {a} -->|{mermaid_text(e.get('label', ''), 40)}| {b}")
    kinds = sorted({n.get("kind", "") for n in lin.get("nodes", [])} & set(_MERMAID_SHAPES))
    for kind in kinds:
        members = ",".join(ids[n["id"]] for n in lin["nodes"] if n.get("kind") == kind)
        out.append(f"  class {members} {kind}")
    root = ids.get(lin.get("root", ""))
    if root:
        out.append(f"  class {root} root")
    out.append("  classDef root stroke-width:3px")
    return "\n".join(out)


def lineage_document(lin: Mapping[str, Any]) -> dict[str, Any]:
    """What ``mlvc lineage --format json`` prints and ``GET /mlvc/lineage`` answers: the
    graph with its Mermaid text added under ``mermaid``."""
    return {**lin, "mermaid": lineage_mermaid(lin)}


def _lineage_line(node: Mapping[str, Any], aliases: Sequence[str] = ()) -> str:
    kind = node.get("kind")
    if kind == "commit":
        when = f" ({node['time']})" if node.get("time") else ""
        failed = " [failed]" if node.get("status") == "failed" else ""
        return f"commit {node.get('label')}{failed}{when}"
    if kind == "data":
        size = node.get("size")
        extra = f" {format_bytes(size)}" if isinstance(size, int) else ""
        none = "  (no commit wrote this content)" if not node.get("producers") else ""
        return f"data {node.get('path')}  {node.get('hash')}{extra}{none}"
    if kind == "source":
        return f"source {node.get('path')}"
    if kind == "model":
        variable = f" (variable {node['variable']})" if node.get("variable") else ""
        held = f" [{', '.join(aliases)}]" if aliases else ""
        return f"model {node.get('name')} version {node.get('version')}{variable}{held}"
    if kind == "alias":
        return f"alias {node.get('alias')} -> version {node.get('version')}"
    return f"{kind} {node.get('label')}"


def lineage_text(lin: Mapping[str, Any]) -> str:
    """A lineage graph as ``mlvc lineage`` prints it: a tree from the commit (or model
    version) asked about, each node's inputs indented below it with the edge's label
    (``read``, ``written by``, ``imported``...), a model's aliases on its line, and the
    model versions registered from the root commit under it. A commit met twice says
    ``(see above)``."""
    nodes = {n["id"]: n for n in lin.get("nodes", [])}
    incoming: dict[str, list[Mapping[str, Any]]] = {}
    outgoing: dict[str, list[Mapping[str, Any]]] = {}
    for e in lin.get("edges", []):
        incoming.setdefault(e["to"], []).append(e)
        outgoing.setdefault(e["from"], []).append(e)
    order = {"data": 0, "source": 1, "commit": 2}
    shown: set[str] = set()
    out: list[str] = []
    root = str(lin.get("root", ""))

    def aliases_of(nid: str) -> list[str]:
        return [
            str(nodes[e["to"]].get("alias"))
            for e in outgoing.get(nid, [])
            if nodes.get(e["to"], {}).get("kind") == "alias"
        ]

    def verb(label: str) -> str:
        if label.startswith("wrote "):
            return f"written as {label[len('wrote ') :]} by"
        if label == "wrote":
            return "written by"
        return {"registered": "registered from", "registered as": "registered as"}.get(label, label)

    def walk(nid: str, prefix: str, head: str, expand: bool = True) -> None:
        node = nodes.get(nid)
        if node is None:
            return
        seen = nid in shown and node.get("kind") in ("commit", "model")
        line = _lineage_line(node, aliases_of(nid))
        out.append(head + line + ("  (see above)" if seen else ""))
        if seen or not expand:
            return
        shown.add(nid)
        ups = sorted(
            incoming.get(nid, []),
            key=lambda e: (order.get(nodes.get(e["from"], {}).get("kind", ""), 3), e["from"]),
        )
        children: list[tuple[str, str, bool]] = [(e["from"], e["label"], True) for e in ups]
        if node.get("kind") == "model":  # exports (aliases are on the model's line)
            children += [
                (e["to"], e["label"], False)
                for e in outgoing.get(nid, [])
                if nodes.get(e["to"], {}).get("kind") == "export"
            ]
        if nid == root and node.get("kind") == "commit":  # what was registered from it
            children += [
                (e["to"], "registered as", False)
                for e in outgoing.get(nid, [])
                if nodes.get(e["to"], {}).get("kind") == "model"
            ]
        if node.get("truncated"):
            children.append(("", "...", False))
        for i, (child, label, deeper) in enumerate(children):
            last = i == len(children) - 1
            branch = "└─ " if last else "├─ "
            if not child:
                out.append(prefix + branch + "... (inputs not followed: raise --depth)")
                continue
            kind = nodes.get(child, {}).get("kind", "")
            tag = verb(label)
            walk(
                child,
                prefix + ("   " if last else "│  "),
                prefix + branch + (f"{tag}: " if tag and kind != "data" else ""),
                deeper,
            )

    walk(root, "", "")
    if lin.get("truncated"):
        out.append("(some inputs were not followed: the depth or producer limit)")
    return plain("\n".join(out))


# -- the model registry ------------------------------------------------------------------
def _gate_settings_text(g: Mapping[str, Any]) -> str:
    parts = []
    if g.get("metrics"):
        parts.append(f"metrics: {g['metrics']}")
    if g.get("evaluated"):
        parts.append("evaluated against the holder")
    if g.get("approvals"):
        parts.append(f"{g['approvals']} approval(s)")
    return ", ".join(parts) or "none"


def models_text(models: Sequence[Mapping[str, Any]]) -> str:
    """``mlvc model list``: one line per model."""
    if not models:
        return "no registered models (register one: mlvc model register NAME REV VARIABLE)"
    rows = [
        [
            m["name"],
            str(m["latest"]),
            ", ".join(f"{a}={v}" for a, v in m["aliases"].items()) or "-",
            ", ".join(m["gates"]) or "-",
        ]
        for m in models
    ]
    return "\n".join(_columns([["model", "latest", "aliases", "gated aliases"], *rows]))


def model_version_text(v: Mapping[str, Any]) -> str:
    """One version, as ``mlvc model show NAME@V`` and ``register`` print it."""
    lines = [
        f"{v['name']} version {v['version']}"
        + (f" ({', '.join(v['aliases'])})" if v.get("aliases") else ""),
        f"  commit     {v['commit']}"
        + (f" on {v['branch']}" if v.get("branch") else "")
        + (f" ({v['notebook']})" if v.get("notebook") else ""),
        f"  variable   {v['variable']} ({v.get('kind') or '?'})",
        f"  registered {v.get('time', '')} by {v.get('registered_by', '')}",
    ]
    if v.get("message"):
        lines.append(f"  message    {v['message']}")
    if v.get("metrics"):
        lines.append(f"  metrics    {kv_text(v['metrics'])}")
    if v.get("params"):
        lines.append(f"  params     {kv_text(v['params'])}")
    return "\n".join(lines)


def model_text(m: Mapping[str, Any]) -> str:
    """``mlvc model show NAME``: versions (newest first), aliases and gates."""
    lines = [f"model {m['name']}: {len(m['versions'])} version(s), latest {m['latest']}"]
    for alias, v in m["aliases"].items():
        lines.append(f"  {alias} -> version {v}")
    for alias, g in m["gates"].items():
        lines.append(f"  gates of {alias}: {_gate_settings_text(g)}")
    rows = [
        [
            str(v["version"]),
            v["short_id"],
            v["variable"],
            v.get("kind", ""),
            v.get("registered_by", ""),
            v.get("time", ""),
            ",".join(v.get("aliases", [])),
            headline_metrics(v.get("metrics", {})),
        ]
        for v in m["versions"]
    ]
    head = ["version", "commit", "variable", "kind", "by", "time", "aliases", "metrics"]
    lines += ["", *_columns([head, *rows])]
    return "\n".join(lines)


def gates_text(gates: Sequence[Mapping[str, Any]]) -> str:
    """Gate results, one line each (``ok`` or ``FAILED``)."""
    if not gates:
        return "  no gates"
    return "\n".join(
        f"  {'ok    ' if g['ok'] else 'FAILED'} {g['gate']}: {g['detail']}" for g in gates
    )


def promotion_text(p: Mapping[str, Any]) -> str:
    """What ``mlvc model promote`` / ``rollback`` did (or, dry run, would do)."""
    ev = p.get("event") or {}
    was = f" (was {p['previous']})" if p.get("previous") is not None else ""
    if ev.get("type") == "rollback":
        head = f"Rolled back {p['name']}@{p['alias']} to version {p['version']}{was}"
    elif p.get("promoted"):
        head = f"Promoted {p['name']} version {p['version']} to {p['alias']}{was}"
    else:
        ok = all(g["ok"] for g in p.get("gates", []))
        head = f"Dry run: {p['name']} version {p['version']} -> {p['alias']}{was} " + (
            "would pass every gate" if ok else "would be refused"
        )
    return head + ("\n" + gates_text(p["gates"]) if p.get("gates") or not ev else "")


def registry_event_text(e: Mapping[str, Any]) -> str:
    """One registry event on one line."""
    what = e["type"]
    if e.get("version") is not None:
        what += f" v{e['version']}"
    if e.get("alias"):
        what += f" @{e['alias']}"
    if e.get("previous") is not None:
        what += f" (was v{e['previous']})"
    gates = e.get("gates") or []
    mark = ""
    if gates:
        mark = (
            " [gates: "
            + ", ".join(f"{g['gate']} {'ok' if g['ok'] else 'FAILED'}" for g in gates)
            + "]"
        )
    reason = f": {e['reason']}" if e.get("reason") else ""
    return f"{e['id'][:8]} {e['time']} {e['user']}: {what}{reason}{mark}"


def registry_history_text(events: Sequence[Mapping[str, Any]]) -> str:
    """``mlvc model history NAME``: every change, newest first."""
    return "\n".join(registry_event_text(e) for e in events) or "no events"


def model_command_text(command: str, out: Any) -> str:
    """The text of a ``mlvc model`` / ``%mlvc model`` subcommand's result."""
    if command == "register":
        return "Registered " + model_version_text(out)
    if command == "list":
        return models_text(out)
    if command == "show":
        return model_text(out) if "versions" in out else model_version_text(out)
    if command in ("promote", "rollback"):
        return promotion_text(out)
    if command == "approve":
        return f"Approved: {registry_event_text(out)}"
    if command == "gates":
        gates = out["gates"]
        return f"Gates of {out['name']}: " + (
            "; ".join(f"{a}: {_gate_settings_text(g)}" for a, g in gates.items()) or "none"
        )
    if command == "history":
        return registry_history_text(out)
    if command == "export":
        return export_text(out)
    return json.dumps(out, indent=1, default=str)


def export_text(out: Any) -> str:
    """What ``mlvc model export`` wrote, and its checks."""
    m = out["model"]
    what = f"{m['variable']} of {m['commit'][:8]}"
    if m.get("name"):
        what = f"{m['name']} version {m['version']} ({what})"
    lines = [f"Exported {what} as {out['format']} to {out['path']} ({len(out['files'])} files)"]
    reload = out["checks"].get("reload")
    if reload is not None:
        lines.append(
            f"  reload check: skipped ({reload['skipped']})"
            if "skipped" in reload
            else f"  reload check: identical predictions on {reload['rows']} rows in a fresh "
            "Python with the exported loader"
        )
    onnx = out["checks"].get("onnx")
    if onnx is not None:
        lines.append(
            f"  ONNX check: max abs diff {onnx['max_abs_diff']:.3g} on {onnx['rows']} rows "
            f"(tolerance {onnx['tolerance']:g} * (1 + |value|)), {onnx['converter']}"
        )
    return "\n".join(lines)


#: The top-level Vega-Lite param holding the ids of the selected runs (outlined). A
#: viewer sets it (``view.signal("selected_runs", ids)``) without drawing the chart
#: again; in a notebook it stays empty.
SELECTED_PARAM = "selected_runs"
_IS_SELECTED = f"indexof({SELECTED_PARAM}, datum.id) >= 0"
_SELECTED_PARAMS: list[dict[str, Any]] = [{"name": SELECTED_PARAM, "value": []}]
_SELECTED_OUTLINE: dict[str, Any] = {
    "stroke": {"condition": {"test": _IS_SELECTED, "value": "#e91e63"}, "value": None},
    "strokeWidth": {"condition": {"test": _IS_SELECTED, "value": 3}, "value": 0},
}


#: Steps charts draw a point per step (with its own tooltip) up to this many; lines only
#: above.
MOST_STEP_POINTS = 3000
#: An axis of whole numbers labels each one up to this many.
_MOST_LABELLED = 12


def steps_vegalite(
    steps: Sequence[Mapping[str, Any]],
    metric: str,
    *,
    ids: Collection[str] | None = None,
    x_title: str = "step",
) -> dict[str, Any] | None:
    """A Vega-Lite v5 spec of a metric across the steps of each run (``log_metrics(...,
    step=)``): a line per run, coloured by branch, tooltips naming the run; the runs in
    :data:`SELECTED_PARAM` are drawn thick and the others faded while any is selected.
    For the Compare view (``GET /mlvc/series?plot=steps``) and ``%mlvc compare --plot``.

    Args:
        steps: ``service.series(...)["series"][metric]["steps"]``: per run ``id``,
            ``short_id``, ``branch``, ``message`` and ``steps`` (``[step, value]``).
        metric: the metric's name (the y axis).
        ids: only these runs (the compared ones); None: every run given.
        x_title: the x axis' title.

    Returns:
        The spec, or None when no run logged steps.
    """
    values = [
        {
            "id": s["id"],
            "run": s.get("short_id"),
            "branch": s.get("branch") or "",
            "message": s.get("message") or "",
            "step": step,
            "value": value,
        }
        for s in steps
        if ids is None or s["id"] in ids
        for step, value in s["steps"]
    ]
    if not values:
        return None
    at = [v["step"] for v in values]
    x: dict[str, Any] = {"field": "step", "type": "quantitative", "title": x_title}
    if all(float(a).is_integer() for a in at):
        unique = sorted(set(at))
        x["axis"] = (
            {"format": "d", "values": unique}
            if len(unique) <= _MOST_LABELLED
            else {"format": "d", "tickMinStep": 1}
        )
    y = {
        "field": "value",
        "type": "quantitative",
        "title": f"metrics.{metric}",
        "scale": {"zero": False},
    }
    color = {"field": "branch", "type": "nominal", "title": "branch"}
    run_tooltip = [
        {"field": "run", "type": "nominal"},
        {"field": "branch", "type": "nominal"},
        {"field": "message", "type": "nominal"},
    ]
    faded = {
        "opacity": {
            "condition": {
                "test": f"length({SELECTED_PARAM}) == 0 || {_IS_SELECTED}",
                "value": 0.9,
            },
            "value": 0.2,
        }
    }
    layer: list[dict[str, Any]] = [
        {
            "mark": {"type": "line", "cursor": "pointer"},
            "encoding": {
                "x": x,
                "y": y,
                "color": color,
                "detail": {"field": "id"},
                **faded,
                "strokeWidth": {"condition": {"test": _IS_SELECTED, "value": 3.5}, "value": 1.5},
                "tooltip": run_tooltip,
            },
        }
    ]
    if len(values) <= MOST_STEP_POINTS:
        layer.append(
            {
                "mark": {"type": "point", "filled": True, "size": 18, "cursor": "pointer"},
                "encoding": {
                    "x": x,
                    "y": y,
                    "color": color,
                    **faded,
                    "tooltip": [
                        *run_tooltip,
                        {"field": "step", "type": "quantitative"},
                        {"field": "value", "type": "quantitative", "title": metric},
                    ],
                },
            }
        )
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "description": f"mlvc compare: metrics.{metric} across steps, a line per run",
        "data": {"values": values},
        "params": _SELECTED_PARAMS,
        "height": 220,
        "layer": layer,
    }


def _scale(table: Mapping[str, Any], section: str, name: str) -> dict[str, Any]:
    """A log scale for positive values over two decades or more (learning rates), else
    linear without zero."""
    nums = [float(r[section][name]) for r in table["rows"] if _number(r[section].get(name))]
    if nums and min(nums) > 0 and max(nums) / min(nums) >= 100:
        return {"type": "log"}
    return {"zero": False}


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _parallel_vegalite(
    table: Mapping[str, Any], params: list[str], metrics: list[str]
) -> dict[str, Any]:
    """Parallel coordinates: the long table (one row per run and axis) is built here,
    each axis scaled to 0..1 over its own range, so the spec needs no transforms."""
    axes = [("params", p) for p in params] + [("metrics", m) for m in metrics]
    ranges: dict[str, tuple[float, float]] = {}
    for section, name in axes:
        nums = [float(r[section][name]) for r in table["rows"] if _number(r[section].get(name))]
        ranges[f"{section}.{name}"] = (min(nums), max(nums))
    values = []
    for r in table["rows"]:
        for section, name in axes:
            v = r[section].get(name)
            if not _number(v):
                continue
            axis = f"{section}.{name}"
            lo, hi = ranges[axis]
            values.append(
                {
                    "id": r.get("id"),
                    "run": r.get("short_id"),
                    "branch": r.get("branch"),
                    "message": r.get("message"),
                    "axis": axis,
                    "value": v,
                    "scaled": (float(v) - lo) / (hi - lo) if hi > lo else 0.5,
                }
            )
    order = [f"{s}.{n}" for s, n in axes]
    labels = [
        {"axis": a, "scaled": y, "label": f"{v:.4g}"}
        for a, (lo, hi) in ranges.items()
        for y, v in ((1.0, hi), (0.0, lo))
    ]
    x = {"field": "axis", "type": "nominal", "sort": order, "title": None}
    y = {"field": "scaled", "type": "quantitative", "axis": None, "scale": {"domain": [0, 1]}}
    tooltip = [
        {"field": "run", "type": "nominal"},
        {"field": "branch", "type": "nominal"},
        {"field": "message", "type": "nominal"},
        {"field": "axis", "type": "nominal"},
        {"field": "value", "type": "quantitative"},
    ]
    color = {"field": "branch", "type": "nominal", "title": "branch"}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "description": "mlvc compare: parallel coordinates of params and metrics, a line per run",
        "params": _SELECTED_PARAMS,
        "width": max(300, 110 * len(order)),
        "height": 300,
        "layer": [
            {
                "data": {"values": values},
                "mark": {"type": "line", "opacity": 0.6},
                "encoding": {
                    "x": {**x, "axis": {"labelAngle": 0, "domain": False, "orient": "bottom"}},
                    "y": y,
                    "color": color,
                    "detail": {"field": "id", "type": "nominal"},
                    "strokeWidth": {
                        "condition": {"test": _IS_SELECTED, "value": 4},
                        "value": 1.5,
                    },
                },
            },
            {
                "data": {"values": values},
                "mark": {"type": "point", "filled": True, "size": 40, "cursor": "pointer"},
                "encoding": {
                    "x": x,
                    "y": y,
                    "color": color,
                    **_SELECTED_OUTLINE,
                    "tooltip": tooltip,
                },
            },
            {
                "data": {"values": labels},
                "mark": {
                    "type": "text",
                    "align": "right",
                    "dx": -6,
                    "baseline": "middle",
                    "color": "#888",  # read on light and dark themes
                },
                "encoding": {"x": x, "y": y, "text": {"field": "label"}},
            },
        ],
        "config": {"view": {"stroke": None}},
    }
