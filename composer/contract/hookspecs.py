"""The whole plugin contract. Each hook's docstring is its documentation.

Registration hooks take a callback: the plugin calls ``register(obj)`` once per object
it contributes, and the objects carry the behaviour (see ``composer.contract.protocols``).
"""

import pluggy

hookspec = pluggy.HookspecMarker("composer")
hookimpl = pluggy.HookimplMarker("composer")


@hookspec
def register_sections(register):
    """Contribute section types: call ``register(section_type)`` for each.

    A section type parses and serialises its part of the digest dialect, may
    collect items from elsewhere (feeds), and names its templates
    ``sections/<name>.<format>.j2``.
    """


@hookspec
def register_renderers(register):
    """Contribute output formats: call ``register(renderer)`` for each.

    A renderer turns an Issue into one or more output files (``email.html`` ...).
    """


@hookspec
def register_deliverers(register):
    """Contribute delivery targets: call ``register(deliverer)`` for each.

    A deliverer has ``name``, ``config_key`` (its composer.toml table; it runs on
    ``composer send`` only when that table is present), ``config`` (the table's
    schema), ``describe(delivery, ctx) -> str`` for ``--dry-run`` and
    ``deliver(delivery, ctx) -> str`` (where it went; raise ``DeliveryError``).
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
    ``composer --help`` too.
    """


@hookspec
def process_issue(issue, ctx):
    """Enrich or tidy the assembled ``issue`` in place, after parsing and collecting.

    Called plugin by plugin; an exception loses only that plugin's changes.
    ``ctx`` is the :class:`composer.contract.protocols.Context` of the run (settings, state,
    offline flag, ``warn``).
    """


@hookspec
def prepare_jinja_env(env):
    """Add filters, tests or globals to the Jinja environment ``env`` before rendering."""
