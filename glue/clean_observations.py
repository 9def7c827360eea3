"""PriceDrop's Glue job (Glue 5.0: Spark 3.5, Python 3.11): raw observations -> cleaned Parquet.

Reads the raw table the crawler catalogued (``price-stream/dt=*/*.csv``), applies the cleaning
rules of ``price_rules.py`` (the same rules and vectors as the desktop engine, see
docs/etl-rules.md), and appends Snappy Parquet partitioned by ``dt`` to ``cleaned/``; rows that
fail a rule go to ``quarantine/`` with their reason code. Job bookmarks (the transformation_ctx
names below) make each run read only the raw files added since the last successful run.

Arguments (set by ``pricedrop cloud setup`` as the job's DefaultArguments):
  --database         Glue database of the raw table
  --raw_table        the crawler's table over price-stream/ (default price_stream)
  --cleaned_path     s3://bucket/cleaned/
  --quarantine_path  s3://bucket/quarantine/
  --min_drop_pct     is_drop threshold in percent (default 0.01)

Differences from the local engine, by design:
- Rows are ordered by observed_at within a run (the local engine keeps file order), so for a
  product whose rows arrive out of time order within one run, "previous observed price" follows
  time order. Producers write in time order, so both agree on real data and on the vectors.
- CSV lines are split by the catalog's SerDe; a line it cannot split usually surfaces as a
  missing or invalid column (MISSING_PRICE, INVALID_TIMESTAMP, ...) rather than MALFORMED_CSV.
"""

import sys
import time

from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import Row, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

import price_rules

REQUIRED = ["JOB_NAME", "database", "cleaned_path", "quarantine_path"]
OPTIONAL = {"raw_table": "price_stream", "min_drop_pct": str(price_rules.DEFAULT_MIN_DROP_PCT)}


def resolve_arguments(argv):
    present = [name for name in OPTIONAL if f"--{name}" in argv]
    args = getResolvedOptions(argv, REQUIRED + present)
    for name, default in OPTIONAL.items():
        args.setdefault(name, default)
    return args


VALID_SCHEMA = T.StructType(
    [
        T.StructField("source", T.StringType(), False),
        T.StructField("product_id", T.StringType(), False),
        T.StructField("observed_at", T.StringType(), False),
        T.StructField("observed_ms", T.LongType(), False),
        T.StructField("dt", T.StringType(), False),
        T.StructField("title", T.StringType(), False),
        T.StructField("category", T.StringType(), False),
        T.StructField("price", T.DoubleType(), False),
        T.StructField("old_price", T.DoubleType(), True),
        T.StructField("currency", T.StringType(), False),
        T.StructField("seq", T.LongType(), False),
    ]
)

QUARANTINE_SCHEMA = T.StructType(
    [
        T.StructField("reason", T.StringType(), False),
        T.StructField("raw", T.StringType(), False),
        T.StructField("source_file", T.StringType(), True),
    ]
)

DROP_SCHEMA = T.StructType(
    [
        T.StructField("old_price", T.DoubleType(), True),
        T.StructField("drop_amount", T.DoubleType(), True),
        T.StructField("drop_pct", T.DoubleType(), True),
        T.StructField("is_drop", T.BooleanType(), False),
        T.StructField("drop_label", T.StringType(), False),
    ]
)


def validate_partition(rows, now_ms):
    """Spark stage: every raw row -> ('ok', valid row) or ('bad', quarantine row)."""
    for row in rows:
        fields = ["" if row[name] is None else str(row[name]) for name in price_rules.RAW_COLUMNS]
        valid, reason = price_rules.validate_fields(fields, now_ms)
        if valid is None:
            yield ("bad", Row(reason=reason, raw=",".join(fields), source_file=row["source_file"]))
        else:
            # Fields in VALID_SCHEMA order (createDataFrame may match a Row to the schema by position).
            yield ("ok", Row(**{key: row["seq"] if key == "seq" else valid[key] for key in VALID_SCHEMA.fieldNames()}))


def main():
    args = resolve_arguments(sys.argv)
    spark_context = SparkContext.getOrCreate()
    glue = GlueContext(spark_context)
    spark = glue.spark_session
    job = Job(glue)
    job.init(args["JOB_NAME"], args)
    now_ms = int(time.time() * 1000)
    min_drop_pct = float(args["min_drop_pct"])
    cleaned_path = args["cleaned_path"].rstrip("/") + "/"

    # Bookmarked read: only raw files added since the last committed run.
    raw = glue.create_dynamic_frame.from_catalog(
        database=args["database"],
        table_name=args["raw_table"],
        transformation_ctx="raw_observations",
    ).toDF()
    if raw.rdd.isEmpty():
        job.commit()
        return
    for column in price_rules.RAW_COLUMNS:
        if column not in raw.columns:
            raw = raw.withColumn(column, F.lit(None).cast("string"))
    raw = raw.select(
        *[F.col(column).cast("string").alias(column) for column in price_rules.RAW_COLUMNS],
        F.input_file_name().alias("source_file"),
        F.monotonically_increasing_id().alias("seq"),
    )

    tagged = raw.rdd.mapPartitions(lambda rows: validate_partition(rows, now_ms)).cache()
    valid = spark.createDataFrame(tagged.filter(lambda t: t[0] == "ok").map(lambda t: t[1]), VALID_SCHEMA)
    bad = spark.createDataFrame(tagged.filter(lambda t: t[0] == "bad").map(lambda t: t[1]), QUARANTINE_SCHEMA)

    # Dedup on (source, product_id, observed_at): first row of the run wins, then rows already in cleaned/.
    first = Window.partitionBy("source", "product_id", "observed_at").orderBy("seq")
    batch = valid.withColumn("n", F.row_number().over(first)).where("n = 1").drop("n")
    days = [row["dt"] for row in batch.select("dt").distinct().collect()]
    history = None
    try:
        history = spark.read.parquet(cleaned_path).select("source", "product_id", "observed_at", "dt", "price")
    except Exception as error:  # noqa: BLE001 - first run: cleaned/ does not exist yet
        if "Path does not exist" not in str(error) and "PATH_NOT_FOUND" not in str(error):
            raise
    if history is not None:
        existing = history.where(F.col("dt").isin(days)).select("source", "product_id", "observed_at")
        batch = batch.join(existing, ["source", "product_id", "observed_at"], "left_anti")

    # Previous observed price: the product's latest earlier observation, earlier runs included.
    products = batch.select("source", "product_id").distinct()
    timeline = batch.select("source", "product_id", "observed_at", "price", F.lit(True).alias("is_new"))
    if history is not None:
        earlier = history.join(products, ["source", "product_id"], "inner").select(
            "source", "product_id", "observed_at", "price", F.lit(False).alias("is_new")
        )
        timeline = timeline.unionByName(earlier)
    by_time = Window.partitionBy("source", "product_id").orderBy("observed_at")
    previous = (
        timeline.withColumn("previous_price", F.lag("price").over(by_time))
        .where("is_new")
        .select("source", "product_id", "observed_at", "previous_price")
    )
    batch = batch.join(previous, ["source", "product_id", "observed_at"], "left")

    compute = F.udf(lambda price, old, prev: price_rules.compute_drop(price, old if old is not None else prev, min_drop_pct), DROP_SCHEMA)
    cleaned = batch.withColumn("drop", compute("price", "old_price", "previous_price")).select(
        "source",
        "product_id",
        "observed_at",
        "title",
        "category",
        "price",
        F.col("drop.old_price").alias("old_price"),
        "currency",
        F.col("drop.drop_amount").alias("drop_amount"),
        F.col("drop.drop_pct").alias("drop_pct"),
        F.col("drop.is_drop").alias("is_drop"),
        F.col("drop.drop_label").alias("drop_label"),
        "dt",
    )

    glue.write_dynamic_frame.from_options(
        frame=DynamicFrame.fromDF(cleaned.repartition("dt"), glue, "cleaned"),
        connection_type="s3",
        connection_options={"path": cleaned_path, "partitionKeys": ["dt"]},
        format="glueparquet",
        format_options={"compression": "snappy"},
        transformation_ctx="write_cleaned",
    )
    run_day = time.strftime("%Y-%m-%d", time.gmtime(now_ms / 1000))
    bad.coalesce(1).write.mode("append").option("header", "true").csv(args["quarantine_path"].rstrip("/") + f"/run_dt={run_day}/")
    job.commit()


if __name__ == "__main__":
    main()
