"""Visibility rules as queries a database answers from its indexes.

A rule such as "your own reviews, your reports' and your skip-levels'" written as one OR across
joined tables (`Q(engineer__user=u) | Q(manager=u) | Q(manager__engineer__manager=u)`) makes
PostgreSQL read every row of every table involved, for a list of one. Written as the union of
one small query per path, each path is answered from its own index and the rows found are read
by primary key.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet


def reachable(*paths: QuerySet[Any, Any]) -> Q:
    """A filter for the rows whose primary key one of `paths` yields. Each path is a queryset
    of one column (`.values("pk")`, or a foreign key of another table) naming rows of the
    filtered model."""
    first, *rest = (path.order_by() for path in paths)
    return Q(pk__in=first.union(*rest, all=True) if rest else first)
