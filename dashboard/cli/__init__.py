"""`inward` — the command line (CONTRACT: commands, options, exit codes).

Exit codes: 0 success; 1 the work could not be done (file refused, query failed,
empty warehouse); 2 bad usage. Errors are one readable line on stderr, never a
bare traceback.

Each command is a small handler over a function that lives elsewhere; no logic lives
here. The package, by what each file holds:

* `options` - the argparse tree (every command and option, side by side);
* `common` - failures, stderr, the warehouse a command reads and as whom;
* `loading` - demo, ingest, serve;
* `reading` - metrics, engagement, alignment, surveys, flow, panel;
* `report` - report;
* `analyst` - query, queries check;
* `operator` - export-lake, rollups;
* this file - which handler runs each command, and how a failure becomes an exit code.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from dashboard import warehouse
from dashboard.cli.analyst import cmd_queries, cmd_query
from dashboard.cli.common import Failure, UsageError, err
from dashboard.cli.loading import cmd_demo, cmd_ingest, cmd_serve
from dashboard.cli.operator import cmd_export_lake, cmd_rollups
from dashboard.cli.options import parser
from dashboard.cli.reading import (
    cmd_alignment,
    cmd_engagement,
    cmd_flow,
    cmd_metrics,
    cmd_panel,
    cmd_surveys,
)
from dashboard.cli.report import cmd_report
from dashboard.config import ConfigError
from dashboard.pseudonyms import PseudonymKeyError

__all__ = ["COMMANDS", "main", "parser"]

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "demo": cmd_demo,
    "ingest": cmd_ingest,
    "serve": cmd_serve,
    "metrics": cmd_metrics,
    "export-lake": cmd_export_lake,
    "rollups": cmd_rollups,
    "engagement": cmd_engagement,
    "alignment": cmd_alignment,
    "surveys": cmd_surveys,
    "report": cmd_report,
    "flow": cmd_flow,
    "query": cmd_query,
    "queries": cmd_queries,
    "panel": cmd_panel,
}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UsageError as exc:
        err(f"inward {args.command}: {exc}")
        return 2
    except ConfigError as exc:  # a config that cannot be used is bad usage
        err(f"inward {args.command}: {exc}")
        return 2
    except (Failure, warehouse.WarehouseBusy, PseudonymKeyError) as exc:
        err(f"inward {args.command}: {exc}")
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `inward ... | head`: the reader left, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # last resort: one readable line, not a traceback
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        err(f"inward {args.command}: unexpected error: {type(exc).__name__}: {first}")
        return 1
