"""Building the SparkSession tocsin runs in, with the settings measured to matter on small machines."""

from __future__ import annotations

import os
import shutil
import sys


class JavaMissing(RuntimeError):
    """No Java runtime: Spark cannot start."""


def check_java() -> None:
    """Fail with how to get Java when neither JAVA_HOME nor `java` on PATH is there."""
    home = os.environ.get("JAVA_HOME")
    if home and os.access(os.path.join(home, "bin", "java"), os.X_OK):
        return
    if shutil.which("java"):
        return
    raise JavaMissing(
        "Java is needed by Spark and was not found (no JAVA_HOME, no `java` on PATH). "
        "Install Java 17 or 21, e.g. `sudo apt-get install openjdk-17-jre-headless` "
        "or `brew install openjdk@17`, then run again."
    )


def build_session(master: str = "local[*]", app_name: str = "tocsin", shuffle_partitions: int | None = None,
                  extra_conf: dict[str, str] | None = None):
    """A SparkSession for `master`; the Python workers use this interpreter, so tocsin is importable there."""
    check_java()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
    from pyspark.sql import SparkSession

    cores = os.cpu_count() or 2
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.ui.enabled", "false")
        # The stateful step's partition count is frozen into the checkpoint; 200 made batches 20x slower.
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions or max(2, cores)))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", os.environ.get("TOCSIN_DRIVER_MEMORY", "2g"))
    )
    for key, value in (extra_conf or {}).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel(os.environ.get("TOCSIN_SPARK_LOG_LEVEL", "ERROR"))
    return session
