"""The email message both email.eml and ``composer send`` use."""

from __future__ import annotations

import email.utils
from email.message import EmailMessage


def build_message(
    *,
    subject: str,
    sender: str,
    to: list[str],
    html: str,
    text: str,
    issue_id: str,
    unsubscribe: str,
    reply_to: str = "",
    one_click: bool = True,
) -> EmailMessage:
    """multipart/alternative, text then HTML, each base64 UTF-8 (CJK stays compact).

    List-Unsubscribe always; List-Unsubscribe-Post (RFC 8058 one-click) only with an
    https unsubscribe URL, as Gmail and Yahoo require.
    """
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(to) or "undisclosed-recipients:;"
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Date"] = email.utils.formatdate(localtime=True)
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or "composer.local"
    msg["Message-ID"] = email.utils.make_msgid(idstring=issue_id or None, domain=domain)
    msg["List-Unsubscribe"] = f"<{unsubscribe}>"
    if one_click and unsubscribe.startswith("https://"):
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text, charset="utf-8", cte="base64")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    return msg
