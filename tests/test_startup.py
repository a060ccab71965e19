"""`composer --help` stays light: heavy libraries load only in the commands using them."""

import json
import os
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
print("premailer" in sys.modules, "requests" in sys.modules)
import premailer.premailer as p
print(p.requests.get.__module__)
"""


def test_email_rendering_defers_requests_until_used(tmp_path):
    """A sheet seen for the first time is compiled with premailer, which does not
    import requests until it is used; a known sheet needs neither."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    probe = [sys.executable, "-c", RENDER_PROBE]
    first = subprocess.run(probe, capture_output=True, text=True, check=True, env=env)
    assert first.stdout.split() == ["True", "False", "requests.api"]
    again = subprocess.run(probe, capture_output=True, text=True, check=True, env=env)
    assert again.stdout.split()[:2] == ["False", "False"]
