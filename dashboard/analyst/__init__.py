"""Analyst queries: `queries/**/*.sql` files as a first-class, sandboxed interface.

A query file is a YAML header in a block comment followed by one SELECT (see
queries/README.md and CONTRACT). This package turns a file into a typed
`QuerySpec`, coerces parameter values, runs the SQL in a sandbox and renders
results for the app (`build_chart`); the CLI prints through `dashboard.output`.

Why the pieces look the way they do:

- Parameters are found with DuckDB's own parser (`Statement.named_parameters`),
  not a regex, so `'$x'` in a string or `-- $x` in a comment is not a parameter
  and a file is checked exactly the way DuckDB will run it. DuckDB's tokenizer
  points at the *line* of a `$name`.
- Values are always bound as DuckDB named parameters, never formatted into the
  SQL, so a value such as `x'; DROP TABLE tickets; --` is just a string.
- The sandbox is layered, so no single check has to be perfect: DuckDB's parser
  must see exactly one SELECT; the SQL runs in a worker process (dashboard/
  analyst/sandbox.py) on a read-only connection with external access and the local file
  system off (no files, not even the warehouse's own; no ATTACH, no INSTALL), the
  configuration locked (no SET), bounded memory, a time limit that kills the
  worker when DuckDB does not stop, and results cut at a row cap and a byte cap.
- The SQL never runs on the warehouse itself but on the viewer's *mart*
  (`dashboard.mart`): a database holding only the rows and survey numbers that
  viewer may see, with ids already pseudonymised. Whatever the SQL names —
  `main.tickets`, a catalog, `query_table`, `duckdb_views()`, `information_schema`
  — it finds nothing else. Without a scope, a run is what open mode gives
  everyone: all rows, pseudonymised, survey numbers only through anonymity.
- Parsed files are cached by (mtime, size), and the folder is re-listed on every
  call, so a new or edited file shows up without restarting the app.

The package, by what each file holds:

- `spec` - the value types (QuerySpec, Param, ChartSpec, results) and their errors;
- `header` - a file's YAML header and SQL to a QuerySpec, errors with their line;
- `catalog` - where query files live, the parse cache, discovery by name;
- `params` - parameter values from the CLI, the URL or the sidebar filters;
- `run` - a query run on the viewer's mart in the sandbox, choice options;
- `sandbox` - the worker process, read-only connection and limits a run goes through;
- `charts` - a Plotly figure for a chart spec;
- `check` - `inward queries check`: every file parsed, bound and run.
"""
