"""Inserting many rows at once.

Django's `bulk_create` on PostgreSQL sends each column as one array (INSERT … SELECT * FROM
UNNEST(…)); a JSON column then goes out as an array literal of JSON texts, which the driver
escapes character by character in Python — most of the time of a large insert. COPY sends the
rows as a stream the driver writes in C, with nothing to plan. Other databases keep
`bulk_create`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import DateField, Field, JSONField, Model

BATCH_SIZE = 1000  # rows per INSERT where COPY is not available


def insert_all(objs: Sequence[Model]) -> None:
    """Insert new model instances (their primary keys are left unset): COPY on PostgreSQL,
    `bulk_create` elsewhere. Fields are prepared as a save would (`auto_now_add` included);
    no signals are sent, as with `bulk_create`."""
    if not objs:
        return
    model = type(objs[0])
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs, batch_size=BATCH_SIZE)
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    prepare = [_preparer(f, connection) for f in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for obj in objs:
            copy.write_row([each(obj) for each in prepare])


def _preparer(field: Field[Any, Any], connection: Any) -> Callable[[Model], Any]:
    """One field's value of an instance, ready for COPY. A JSON value goes as its text, which
    the driver copies as it copies any text; dates set on creation are set here."""
    name = field.attname
    if isinstance(field, JSONField):
        dumps = functools.partial(json.dumps, cls=field.encoder)
        return lambda obj: None if (value := getattr(obj, name)) is None else dumps(value)
    if isinstance(field, DateField) and (field.auto_now or field.auto_now_add):
        return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), connection)
    return lambda obj: field.get_db_prep_save(getattr(obj, name), connection)
