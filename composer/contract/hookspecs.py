"""The whole plugin contract. Each hook's docstring is its documentation.

Registration hooks take a callback: the plugin calls ``register(obj)`` once per object
it contributes, and the objects carry the behaviour (``composer.contract.protocols``).
Every hook is called plugin by plugin in load order (built-ins, then entry points,
then local plugins); a plugin that raises loses only its own contribution.
"""

import pluggy

hookspec = pluggy.HookspecMarker("composer")
hookimpl = pluggy.HookimplMarker("composer")


@hookspec
def register_sections(register):
    """Contribute section types: call ``register(section_type)`` for each.

    A section type parses and serialises its part of the digest dialect, may
    collect items from elsewhere (feeds), and names its templates
    ``sections/<name>.<format>.j2``. Called once per run.
    """


@hookspec
def register_renderers(register):
    """Contribute output formats: call ``register(renderer)`` for each.

    A renderer turns an Issue into the files it declares in ``outputs`` and may
    bring its own check rules. Called once per run.
    """


@hookspec
def register_deliverers(register):
    """Contribute delivery targets: call ``register(deliverer)`` for each.

    A deliverer runs on ``composer send`` only when its table (``config_key``) is in
    composer.toml. Called once per run.
    """


@hookspec
def register_settings(register):
    """Declare a composer.toml table: call ``register(table_name, schema)``.

    For plugins whose table belongs to no registered object (an enrichment plugin,
    say). ``schema`` is a pydantic model or a dataclass; the validated value is
    ``ctx.config_for(table_name)``.
    """


@hookspec
def register_commands(cli):
    """Add commands to the ``composer`` click group ``cli``.

    Keep heavy imports inside the command functions: this hook runs for
    ``composer --help`` too, which loads built-in and installed plugins without
    reading the workspace's composer.toml.
    """


@hookspec
def process_issue(issue, ctx):
    """Enrich or tidy the assembled ``issue`` in place, once, when ``composer draft``
    builds it (after parsing the notes and collecting).

    What a plugin changes in the dialect's fields (sections, titles, URLs, texts,
    turns) is written to issue.md and so reaches every later render. ``meta`` is not
    written: keep what later renders need in your own state table
    (``ctx.state.table(...)``) and offer it to templates from ``prepare_jinja_env``.
    An exception loses only that plugin's changes.
    """


@hookspec
def prepare_jinja_env(env):
    """Add filters, tests or globals to the Jinja environment ``env`` before rendering."""
