"""``rlops server``: the runtime service for a team, as a REST API and a web dashboard.

The server holds the one :class:`rlops.runtime.local.LocalRuntime` (its store: SQLite by default, or
Postgres by ``RLOPS_DATABASE_URL``/``--database``); the SDK and the CLI of every user reach it through
:class:`rlops.runtime.remote.RemoteRuntime` when ``RLOPS_SERVER`` names it. :mod:`rlops.server.api`
is the REST API, :mod:`rlops.server.dashboard` the pages, :mod:`rlops.server.app` puts them together
behind the token check a server beyond loopback needs.
"""
