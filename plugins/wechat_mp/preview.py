"""The preview of wechat.html: the article at phone width under a 复制到公众号 button.

The button puts the article on the clipboard as rich text (``text/html``, with a
``text/plain`` alternative) through the asynchronous Clipboard API
(``ClipboardItem``); where that is missing or refused it selects the article and
uses ``document.execCommand("copy")``, which copies the selection as HTML too. Then
one paste (Ctrl/Cmd+V) into the 公众号 editor brings the styled article.
"""

from __future__ import annotations

PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>公众号 · 复制到公众号</title>
<style>
body {{ margin: 0; background: #ffffff; }}
.bar {{ position: sticky; top: 0; z-index: 1; display: flex; gap: 8px; align-items: center;
        padding: 8px 12px; background: #f3f5f7; border-bottom: 1px solid #dde1e6;
        font: 13px/1.4 -apple-system, "PingFang SC", "Noto Sans CJK SC", sans-serif; }}
.bar button {{ padding: 6px 14px; border: 0; border-radius: 4px; background: #07c160;
               color: #ffffff; font: inherit; font-weight: 600; cursor: pointer; }}
.bar button:focus-visible {{ outline: 2px solid #0f4c81; outline-offset: 2px; }}
.bar output {{ color: #333333; }}
.article {{ padding: 16px 12px; }}
</style></head><body>
<div class="bar"><button type="button" id="copy">复制到公众号</button>
<output id="status" aria-live="polite">复制后在公众号编辑器里粘贴（Ctrl/⌘+V）</output></div>
<div class="article" id="article">{article}</div>
<script>
(function () {{
  var article = document.getElementById("article");
  var status = document.getElementById("status");
  function say(text) {{ status.textContent = text; }}
  function bySelection() {{
    var range = document.createRange();
    range.selectNodeContents(article);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    var done = false;
    try {{ done = document.execCommand("copy"); }} catch (e) {{ done = false; }}
    selection.removeAllRanges();
    return done;
  }}
  document.getElementById("copy").addEventListener("click", function () {{
    var rich = article.innerHTML;
    var plain = article.innerText;
    var done = function () {{ say("已复制：到公众号编辑器里粘贴即可"); }};
    var fallback = function () {{
      say(bySelection() ? "已复制：到公众号编辑器里粘贴即可" : "复制失败：请全选文章后手动复制");
    }};
    if (navigator.clipboard && window.ClipboardItem) {{
      var item = new ClipboardItem({{
        "text/html": new Blob([rich], {{ type: "text/html" }}),
        "text/plain": new Blob([plain], {{ type: "text/plain" }})
      }});
      navigator.clipboard.write([item]).then(done, fallback);
    }} else {{
      fallback();
    }}
  }});
}})();
</script>
</body></html>
"""


def copy_page(page: str) -> str:
    """The preview page of a wechat.html page: its article under the copy button."""
    from composer.plugins.wechat_mp.article import article_of

    return PAGE.format(article=article_of(page))
