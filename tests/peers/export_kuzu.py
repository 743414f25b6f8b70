"""Loads a diplograph `export --format kuzu` directory into a new Kuzu database by running
its schema.cypher, then runs one query and prints the rows as JSON.

Usage: export_kuzu.py EXPORT_DIR DATABASE_DIR QUERY
"""
import json
import os
import sys

import kuzu

export_dir, database_dir, query = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
os.chdir(export_dir)
connection = kuzu.Connection(kuzu.Database(database_dir))
with open("schema.cypher", encoding="utf-8") as schema:
    text = "\n".join(line for line in schema if not line.startswith("//"))
for statement in text.split(";"):
    if statement.strip():
        connection.execute(statement)
result = connection.execute(query)
columns = result.get_column_names()
rows = []
while result.has_next():
    rows.append(dict(zip(columns, result.get_next())))
print(json.dumps(rows))
