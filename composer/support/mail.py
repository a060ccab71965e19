"""The email message: multipart text + HTML, the headers mail clients and lists expect."""

from __future__ import annotations

import email.utils
import unicodedata
from email.message import EmailMessage

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def header_value(text: str) -> str:
    """``text`` fit for a header: one line; control characters and line separators read
    as spaces, bidi overrides dropped; other format characters (the zero-width joiner
    inside an emoji) kept."""
    kept = (
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
        for ch in text
        if ch not in BIDI_CONTROLS
    )
    return " ".join("".join(kept).split())


def build_message(
    *,
    subject: str,
    sender: str,
    to: list[str],
    html: str,
    text: str | None,
    issue_id: str,
    unsubscribe: str,
    reply_to: str = "",
    one_click: bool = True,
) -> EmailMessage:
    """multipart/alternative, text then HTML, each base64 UTF-8 (CJK stays compact).

    Without ``text`` the message is HTML only; without ``sender`` it has no From.
    List-Unsubscribe when there is an unsubscribe address; List-Unsubscribe-Post
    (RFC 8058 one-click) only with an https one, as Gmail and Yahoo require.
    """
    msg = EmailMessage()
    msg["Subject"] = header_value(subject)
    if sender:
        msg["From"] = header_value(sender)
    msg["To"] = ", ".join(header_value(a) for a in to) or "undisclosed-recipients:;"
    if reply_to:
        msg["Reply-To"] = header_value(reply_to)
    msg["Date"] = email.utils.formatdate(localtime=True)
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or "composer.local"
    msg["Message-ID"] = email.utils.make_msgid(idstring=issue_id or None, domain=domain)
    if unsubscribe:
        msg["List-Unsubscribe"] = f"<{header_value(unsubscribe)}>"
        if one_click and unsubscribe.startswith("https://"):
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if text is None:
        msg.set_content(html, subtype="html", charset="utf-8", cte="base64")
    else:
        msg.set_content(text, charset="utf-8", cte="base64")
        msg.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    return msg
