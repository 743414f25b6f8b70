"""Reads every Parquet table of a diplograph export with pyarrow; prints rows and column
types per file as JSON.

Usage: export_pyarrow.py DIR
"""
import json
import pathlib
import sys

import pyarrow.parquet as pq

tables = {}
for path in sorted(pathlib.Path(sys.argv[1]).glob("*/*.parquet")):
    table = pq.read_table(path)
    tables[f"{path.parent.name}/{path.name}"] = {
        "rows": table.num_rows,
        "types": {field.name: str(field.type) for field in table.schema},
        "nullable": {field.name: field.nullable for field in table.schema},
        "first": {k: v[0] if v else None for k, v in table.to_pydict().items()},
    }
print(json.dumps(tables, default=str))
