"""SQLAlchemy's reflection, as Alembic autogenerate and admin tools run it.

Usage: /usr/bin/python3 reflect_sqlalchemy.py TABLE... (libpq environment
variables say where). Prints what it found; exits non-zero on any error.
"""
import os
import sys

import sqlalchemy as sa

url = sa.engine.URL.create(
    "postgresql+psycopg2",
    username=os.environ["PGUSER"],
    password=os.environ["PGPASSWORD"],
    host=os.environ["PGHOST"],
    port=int(os.environ["PGPORT"]),
    database=os.environ["PGDATABASE"],
    query={"sslmode": "disable"},
)
engine = sa.create_engine(url)
inspector = sa.inspect(engine)
tables = sys.argv[1:]
print("schemas", inspector.get_schema_names())
print("views", inspector.get_view_names())
for t in tables:
    print(t, "columns", [(c["name"], str(c["type"])) for c in inspector.get_columns(t)])
    print(t, "pk", inspector.get_pk_constraint(t))
    print(t, "fks", inspector.get_foreign_keys(t))
    print(t, "indexes", inspector.get_indexes(t))
    print(t, "unique", inspector.get_unique_constraints(t))
meta = sa.MetaData()
meta.reflect(bind=engine, only=tables)
for name, table in sorted(meta.tables.items()):
    print("reflected", name, [c.name for c in table.columns])
with engine.connect() as conn:
    print("rows", conn.execute(sa.select(meta.tables[tables[0]])).fetchall())
