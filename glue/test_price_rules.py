"""The shared vectors (test/vectors/*.json) through glue/price_rules.py, without Spark.

Run: python3 -m unittest discover -s glue -p 'test_*.py'
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import price_rules  # noqa: E402

VECTOR_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "vectors")


def load_vectors():
    vectors = []
    for name in sorted(os.listdir(VECTOR_DIR)):
        if name.endswith(".json"):
            with open(os.path.join(VECTOR_DIR, name), encoding="utf-8") as handle:
                vectors.append(json.load(handle))
    return vectors


def sort_key(row):
    return (row["source"], row["product_id"], row["observed_at"])


class SharedVectors(unittest.TestCase):
    def test_vectors_exist(self):
        self.assertGreaterEqual(len(load_vectors()), 6)

    def test_each_vector(self):
        for vector in load_vectors():
            with self.subTest(vector=vector["name"]):
                now_ms = price_rules.parse_timestamp(vector["now"])
                results = price_rules.clean_batches(vector["batches"], now_ms, vector.get("min_drop_pct", 0.01))
                cleaned = sorted((row for result in results for row in result.cleaned), key=sort_key)
                self.assertEqual(cleaned, sorted(vector["cleaned"], key=sort_key))
                self.assertEqual(sum(result.duplicates for result in results), vector["duplicates"])
                quarantined = [{"batch": i, "line": line, "reason": reason} for i, result in enumerate(results) for line, reason, _raw in result.quarantined]
                self.assertEqual(quarantined, vector["quarantined"])
                for result in results:
                    self.assertEqual(result.read, len(result.cleaned) + result.duplicates + len(result.quarantined))


class Rules(unittest.TestCase):
    def test_rounding_is_half_away_from_zero(self):
        self.assertEqual(price_rules.round_half_away(2.5, 0), 3.0)
        self.assertEqual(price_rules.round_half_away(-2.5, 0), -3.0)
        self.assertEqual(price_rules.round_half_away(-0.001, 2), 0.0)
        self.assertEqual(str(price_rules.round_half_away(-0.001, 2)), "0.0")

    def test_timestamps(self):
        self.assertEqual(price_rules.format_timestamp(price_rules.parse_timestamp("2024-02-29T23:59:59.9999+00:30")), "2024-02-29T23:29:59.999Z")
        self.assertIsNone(price_rules.parse_timestamp("2023-02-29"))
        self.assertIsNone(price_rules.parse_timestamp("1969-12-31T23:59:59Z"))
        self.assertIsNone(price_rules.parse_timestamp("2024-01-01T24:00:00Z"))
        self.assertIsNone(price_rules.parse_timestamp("2024-01-01T10:00:00Z\n"[:-1] + "x"))

    def test_reason_codes_match_the_typescript_list(self):
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pipeline", "base", "price-rules.ts"), encoding="utf-8") as handle:
            source = handle.read()
        start = source.index("export const REASON_CODES = [")
        block = source[start : source.index("] as const", start)]
        self.assertEqual(tuple(part.strip().strip("',") for part in block.splitlines()[1:] if part.strip()), price_rules.REASON_CODES)

    def test_category_synonyms(self):
        self.assertEqual(price_rules.normalize_category("  Consumer   ELECTRONICS "), "Electronics")
        self.assertEqual(price_rules.normalize_category("kitchen & dining"), "Kitchen & Dining")
        self.assertEqual(price_rules.normalize_category(""), "Uncategorized")


if __name__ == "__main__":
    unittest.main()
