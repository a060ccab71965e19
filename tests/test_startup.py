"""`composer --help` stays light: heavy libraries load only in the commands using them."""

import json
import subprocess
import sys

HEAVY = [
    "pydantic",
    "jinja2",
    "markdown_it",
    "premailer",
    "httpx",
    "feedparser",
    "apscheduler",
    "yaml",
    "rich",
    "cssutils",
    "lxml",
]

PROBE = """
import json, sys
sys.argv = ["composer", "--help"]
from composer.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def test_help_imports_no_heavy_library():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert "click" in loaded and "pluggy" in loaded
    assert sorted(loaded.intersection(HEAVY)) == []


RENDER_PROBE = """
import sys
from composer.support.css import inline_css
inline_css('<html><head><style>p {color: red}</style></head><body><p>x</p></body></html>')
import premailer.premailer as p
print("requests" in sys.modules)
print(p.requests.get.__module__)
"""


def test_email_rendering_defers_requests_until_used():
    out = subprocess.run(
        [sys.executable, "-c", RENDER_PROBE], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "requests.api"]
