"""What `composer init` writes: a commented composer.toml and an example note.

The example note is recognised by `composer check`, which refuses to send it.
"""

CONFIG_TEMPLATE = """\
# composer.toml: settings of this newsletter workspace.
# Every table below is optional; an unknown table or key is an error.

[newsletter]
title = "AI 研究周报"          # heading of every issue
language = "zh-CN"             # zh-CN or en: fixed words of the theme
timezone = "Asia/Shanghai"     # issue ids are ISO weeks in this timezone
# order of sections in an issue (section names from `composer plugins`)
sections = ["discussions", "papers", "chat", "qa", "links", "feeds"]
# url = "https://example.org/weekly/{id}/"      # web version of each issue
# unsubscribe_url = "mailto:editor@example.org?subject=unsubscribe"

[plugins]
disable = []                   # plugin names not to load
local = []                     # local plugin files, e.g. ["plugins/events.py"]

# External RSS/Atom feeds, fetched by `composer draft` (docs/feeds.md).
# [feeds]
# urls = ["https://example.org/feed.xml"]

# `composer schedule` drafts (and sends) each week's issue (docs/schedule.md).
# [schedule]
# cron = "0 9 * * fri"         # crontab: minute hour day month weekday (0 or 7 = Sunday)
# action = "draft+send"        # or "draft"

# `composer send` delivers to every [delivery.*] table present.
# The SMTP password is read only from $COMPOSER_SMTP_PASSWORD.
# [delivery.email]
# smtp_host = "smtp.example.org"
# smtp_port = 587
# starttls = true
# username = "editor@example.org"
# from = "AI 周报 <editor@example.org>"
# to = ["review@example.org"]
"""

EXAMPLE_NOTE = """\
## 论文分享

1.《论文标题》https://example.org/paper-link

一两句话的摘要。

## 简短问答

Q: 一个问题？

A: 一个回答。
"""
