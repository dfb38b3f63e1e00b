"""Building the SparkSession tocsin runs in, with the settings measured to matter on small machines."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


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


LOG4J = """\
rootLogger.level = warn
rootLogger.appenderRef.file.ref = file
appender.file.type = File
appender.file.name = file
appender.file.fileName = {path}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d{{yy/MM/dd HH:mm:ss}} %p %c{{1}}: %m%n
"""


def log_to_file(log_dir: Path) -> dict[str, str]:
    """Spark settings that send the JVM's log to log_dir/spark.log instead of the terminal."""
    log_dir.mkdir(parents=True, exist_ok=True)
    properties = log_dir / "log4j2.properties"
    properties.write_text(LOG4J.format(path=(log_dir / "spark.log").resolve()))
    return {"spark.driver.extraJavaOptions": f"-Dlog4j.configurationFile=file:{properties.resolve()}"}


def submitted() -> bool:
    """Whether this process was started by spark-submit, which then owns the master and deploy settings."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def build_session(master: str | None = "local[*]", app_name: str = "tocsin", shuffle_partitions: int | None = None,
                  extra_conf: dict[str, str] | None = None, log_dir: Path | None = None):
    """A SparkSession for `master`; the Python workers use this interpreter, so tocsin is importable there.

    With no master, spark-submit's is used, or local[*] outside spark-submit.
    """
    check_java()
    extra_conf = {**(log_to_file(log_dir) if log_dir else {}), **(extra_conf or {})}
    if not master and not submitted():
        master = "local[*]"
    if master and master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no surprise network interface on a laptop
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
    from pyspark.sql import SparkSession

    cores = os.cpu_count() or 2
    builder = SparkSession.builder.master(master) if master else SparkSession.builder
    builder = (
        builder.appName(app_name)
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", os.environ.get("TOCSIN_DRIVER_MEMORY", "2g"))
        # The source's `url` option may carry a Redis password: keep it out of plans, logs and the UI.
        .config("spark.sql.redaction.string.regex", r"(?i)(?<=://)[^/@\s]*(?=@)")
    )
    if not submitted() or shuffle_partitions:  # under spark-submit, its --conf decides
        # The stateful step's partition count is frozen into the checkpoint; 200 made batches 20x slower.
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions or max(2, cores)))
    for key, value in extra_conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel(os.environ.get("TOCSIN_SPARK_LOG_LEVEL", "ERROR"))
    return session
