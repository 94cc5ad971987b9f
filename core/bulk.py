"""Inserting many rows at once.

Django's `bulk_create` on PostgreSQL sends each column as one array (INSERT … SELECT * FROM
UNNEST(…)); a JSON column then goes out as an array literal of JSON texts, which the driver
escapes character by character in Python — most of the time of a large insert. COPY sends the
rows as a stream the driver writes in C, with nothing to plan. Other databases keep
`bulk_create`.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model

BATCH_SIZE = 1000  # rows per INSERT where COPY is not available


def insert_all(objs: Sequence[Model]) -> None:
    """Insert new model instances (their primary keys are left unset): COPY on PostgreSQL,
    `bulk_create` elsewhere. Fields are prepared as a save would (`auto_now_add` included);
    no signals are sent, as with `bulk_create`."""
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs, batch_size=BATCH_SIZE)
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for obj in objs:
            copy.write_row([f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields])
