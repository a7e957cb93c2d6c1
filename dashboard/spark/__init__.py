"""The Spark engine: Inward's metric models run by Apache Spark over a Parquet lake.

For data that has outgrown one machine (or already lives in a lake): `inward
export-lake` writes the canonical tables as Parquet, and this engine registers
them in a Spark session, defines `ticket_times` from the same model file the
warehouse view uses (dashboard/models/ticket_times.sql), and answers the same
metric functions through the same `.sql(query, params=…).pl()` surface as a
DuckDB connection. So `summary(SparkLake(...), filters, by)` is the very
function `inward metrics` runs on DuckDB; only the engine differs.

Spark is an optional extra (`uv sync --extra spark`, plus a Java 17+ runtime);
nothing else in Inward imports this package.
"""

from __future__ import annotations

import os
import re
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from dashboard import models
from dashboard.lake import PARTITION

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession

DEFAULT_MASTER = "local[*]"
# What the models read; the other lake tables are for engines and notebooks that
# need them (registering a table costs Spark a listing and a footer read).
MODEL_TABLES = ("tickets", "sla_targets", "source_as_of")
REQUIRED_TABLES = ("tickets", "sla_targets")
LOG_CONFIG = Path(__file__).with_name("log4j2.properties")

# Settings every Inward session needs to give DuckDB's answers: instants are
# judged in UTC (date filters, weeks), partition folders stay text, no console
# progress bars on the CLI's stderr. Local mode gets a larger driver heap: Spark's
# exact `percentile` keeps a count per distinct value in memory.
BASE_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.log.structuredLogging.enabled": "false",
    "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{LOG_CONFIG}",
}
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.driver.memory": "4g",
    "spark.sql.shuffle.partitions": "16",  # 200 (the cluster default) is overhead on one box
}


class SparkUnavailable(RuntimeError):
    """pyspark or Java is missing, or Spark could not start."""


class LakeError(RuntimeError):
    """The lake is missing a table the models need."""


def _pyspark() -> Any:
    """Import pyspark.sql, with the install hint when the extra is missing."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. pyspark's pandas-version FutureWarning
            import pyspark.sql
    except ImportError as exc:
        raise SparkUnavailable(
            "the Spark engine needs pyspark and Java 17+: run 'uv sync --extra spark' "
            "(Debian: apt-get install openjdk-17-jre-headless)"
        ) from exc
    return pyspark.sql


def under_spark_submit() -> bool:
    """True in a driver started by spark-submit, which already chose the master."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def session(master: str | None = None, conf: dict[str, str] | None = None) -> SparkSession:
    """A Spark session for Inward: `master` (default local[*], or whatever
    spark-submit chose), BASE_CONF, then the caller's `conf` on top."""
    sql = _pyspark()
    builder = sql.SparkSession.builder.appName("inward")
    settings = dict(BASE_CONF)
    if master is None and not under_spark_submit():
        master = DEFAULT_MASTER
    if master is not None:
        builder = builder.master(master)
        if master.startswith("local"):
            settings |= LOCAL_CONF
    settings |= conf or {}
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spark = builder.getOrCreate()
    except Exception as exc:
        if "JAVA_GATEWAY_EXITED" in str(exc) or isinstance(exc, FileNotFoundError):
            raise SparkUnavailable(
                "Spark could not start Java: install a Java 17+ runtime "
                "(Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
            ) from exc
        raise
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _table_path(lake: str, table: str) -> str:
    if "://" in lake:  # s3a://bucket/lake, hdfs://namenode/lake, file:///…
        return f"{lake.rstrip('/')}/{table}"
    return str(Path(lake).resolve() / table)


_MARKER = re.compile(r"\$([A-Za-z_]\w*)")


def spark_markers(query: str) -> str:
    """DuckDB's `$name` parameters as Spark's `:name` markers (model SQL never has
    a `$` inside a string literal, so no SQL parsing is needed)."""
    return _MARKER.sub(r":\1", query)


class _Result:
    def __init__(self, frame: DataFrame) -> None:
        self._frame = frame

    def pl(self) -> pl.DataFrame:
        """The result on the driver as a Polars frame, through Arrow."""
        return pl.from_arrow(self._frame.toArrow())  # type: ignore[return-value]


class SparkLake:
    """A lake's tables (and the `ticket_times` model) registered in a Spark session.

    Offers DuckDB's `sql(query, params=…).pl()`, so every metric written against
    that surface in the shared SQL subset runs here unchanged.
    """

    def __init__(
        self, spark: SparkSession, lake: str | os.PathLike[str], owns_session: bool = True
    ) -> None:
        self.spark = spark
        self.lake = str(lake)
        self.owns_session = owns_session
        self.tables = self._register()
        spark.sql(
            "CREATE OR REPLACE TEMPORARY VIEW ticket_times AS\n" + models.load("ticket_times")
        )

    def _register(self) -> list[str]:
        from pyspark.errors import AnalysisException

        found = []
        for table in MODEL_TABLES:
            path = _table_path(self.lake, table)
            if "://" not in self.lake and not Path(path).is_dir():
                frame = None
            else:
                try:
                    frame = self.spark.read.parquet(path)
                except AnalysisException:
                    frame = None
            if frame is None:
                if table in REQUIRED_TABLES:
                    raise LakeError(
                        f"no {table}/ in the lake {self.lake}: write the lake with "
                        f"'inward export-lake {self.lake}'"
                    )
                continue
            if table == "tickets":
                frame = frame.drop(PARTITION)
            frame.createOrReplaceTempView(table)
            found.append(table)
        return found

    def sql(self, query: str, *, params: dict[str, Any] | None = None) -> _Result:
        return _Result(self.spark.sql(spark_markers(query), args=params or None))

    def stop(self) -> None:
        """Stop the session if this lake started it (a notebook's or a test's own
        session outlives the lake)."""
        if self.owns_session:
            self.spark.stop()


def open_lake(
    lake: str | os.PathLike[str],
    master: str | None = None,
    conf: dict[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> SparkLake:
    """Start (or join the already active) Spark session and register the lake in it."""
    t0 = time.perf_counter()
    active = _pyspark().SparkSession.getActiveSession()
    spark = active or session(master, conf)
    if progress:
        started = time.perf_counter() - t0
        progress(f"spark {spark.version} on {spark.sparkContext.master} ({started:.1f} s)")
    return SparkLake(spark, lake, owns_session=active is None)
