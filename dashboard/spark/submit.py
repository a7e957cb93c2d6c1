"""Entry point for `spark-submit`: the `inward` command line inside a Spark driver.

    SUBMIT=$(python -c 'import dashboard.spark.submit as s; print(s.__file__)')
    spark-submit --master spark://host:7077 "$SUBMIT" \
        metrics --engine spark --lake s3a://bucket/inward-lake --by team

spark-submit starts the JVM with the cluster's master, jars and settings; the
Spark engine then joins that session instead of starting a local one.
"""

import sys

from dashboard.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
