"""The email message: multipart text + HTML, the headers mail clients and lists expect."""

from __future__ import annotations

import email.utils
from email.message import EmailMessage


def header_value(text: str) -> str:
    """``text`` fit for a header: one line, control characters dropped."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


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
