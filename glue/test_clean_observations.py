"""The Glue job's per-row stage and arguments, with awsglue/pyspark stubbed (no Spark here).

The Spark plumbing itself (catalog read, window functions, Parquet write) only runs in Glue; what
runs per row is price_rules.py, covered by the shared vectors in test_price_rules.py.
"""

import os
import sys
import types
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


class _Row(dict):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def __getattr__(self, name):
        return self[name]


def _stub(name, **attributes):
    module = types.ModuleType(name)
    module.__dict__.update(attributes)
    sys.modules[name] = module
    return module


def _resolved(argv, names):
    out = {}
    for name in names:
        flag = f"--{name}"
        if flag not in argv:
            raise SystemExit(f"missing {flag}")
        out[name] = argv[argv.index(flag) + 1]
    return out


class _StructType(list):
    def fieldNames(self):  # noqa: N802 - pyspark's name
        return [field[0] for field in self]


_types = _stub("pyspark.sql.types", StructType=_StructType, StructField=lambda *a: a, StringType=lambda: "string", LongType=lambda: "long", DoubleType=lambda: "double", BooleanType=lambda: "boolean")
_stub("pyspark")
_stub("pyspark.context", SparkContext=object)
_stub("pyspark.sql", Row=_Row, Window=object, functions=types.ModuleType("functions"), types=_types)
_stub("pyspark.sql.functions")
_stub("awsglue")
_stub("awsglue.context", GlueContext=object)
_stub("awsglue.dynamicframe", DynamicFrame=object)
_stub("awsglue.job", Job=object)
_stub("awsglue.utils", getResolvedOptions=_resolved)

import clean_observations  # noqa: E402
import price_rules  # noqa: E402

NOW = price_rules.parse_timestamp("2026-11-25T12:00:00Z")


def raw(**fields):
    base = {"product_id": "p1", "title": " Kettle ", "category": "home", "price": "8.99", "old_price": "9.99", "currency": "eur", "source": "shop", "observed_at": "2026-11-20T10:00:00Z", "source_file": "s3://b/price-stream/dt=2026-11-20/a.csv", "seq": 7}
    base.update(fields)
    return base


class ValidateStage(unittest.TestCase):
    def test_valid_rows_carry_normalised_columns(self):
        [(tag, row)] = list(clean_observations.validate_partition([raw()], NOW))
        self.assertEqual(tag, "ok")
        self.assertEqual(row["title"], "Kettle")
        self.assertEqual(row["category"], "Home & Garden")
        self.assertEqual(row["currency"], "EUR")
        self.assertEqual(row["observed_at"], "2026-11-20T10:00:00.000Z")
        self.assertEqual(row["dt"], "2026-11-20")
        self.assertEqual(row["seq"], 7)
        self.assertEqual(list(row), clean_observations.VALID_SCHEMA.fieldNames())

    def test_bad_rows_go_to_quarantine_with_the_reason(self):
        rows = [raw(price=None), raw(observed_at="2099-01-01T00:00:00Z"), raw(product_id="")]
        out = list(clean_observations.validate_partition(rows, NOW))
        self.assertEqual([(tag, row["reason"]) for tag, row in out], [("bad", "MISSING_PRICE"), ("bad", "FUTURE_TIMESTAMP"), ("bad", "MISSING_PRODUCT_ID")])
        self.assertEqual(out[0][1]["source_file"], "s3://b/price-stream/dt=2026-11-20/a.csv")

    def test_arguments_have_defaults(self):
        args = clean_observations.resolve_arguments(["job.py", "--JOB_NAME", "j", "--database", "pricedrop", "--cleaned_path", "s3://b/cleaned/", "--quarantine_path", "s3://b/q/"])
        self.assertEqual(args["raw_table"], "price_stream")
        self.assertEqual(args["min_drop_pct"], "0.01")


if __name__ == "__main__":
    unittest.main()
