"""Talk to a SQL warehouse (Databricks, or the embedded one) over the Statement Execution API.

Entry point: `config.resolve_connection(...)` decides where to go, then
`session.open_session(connection)` yields a `Session` whose `client` is a
`client.StatementClient`. Modules, one job each: `config` (settings resolution, SDK rules),
`secret` (redacting wrapper), `auth` (bearer and OAuth M2M for httpx), `httpclient` (the one
httpx client), `client` (statements, polling, retries, cancel, chunks), `models` (returned
values), `errors` (typed failures), `session` (lifecycle, embedded warehouse included).
"""
