"""`{{ field|as_field }}`: a form field with its label, help text and errors, the way every
form in Levelset lays one out. Written in Python: an `{% include %}` per field was a large
share of the pages with many fields (a review's evidence and ratings). A builtin
(settings.TEMPLATES), so templates use it without `{% load %}`."""

from __future__ import annotations

from django import template
from django.forms import BoundField
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def as_field(field: BoundField) -> SafeString:
    errors = field.errors
    help_text = (
        format_html(
            '<span class="muted" id="{}_helptext">{}</span>', field.auto_id, field.help_text
        )
        if field.help_text
        else ""
    )
    return format_html(
        '<p class="field{}">\n  <label for="{}">{}</label>\n  {}\n  {}\n  {}\n</p>',
        " has-error" if errors else "",
        field.id_for_label,
        field.label,
        field,
        help_text,
        format_html_join("", '<span class="error" role="alert">{}</span>', ((e,) for e in errors)),
    )
