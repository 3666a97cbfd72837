"""Template tags for evidence file lists: human sizes, type labels and the upload rules."""

from django import template

from portfolio.filetypes import format_size, label, upload_rules

register = template.Library()
register.filter("file_size", format_size)
register.filter("file_type_label", label)
register.simple_tag(upload_rules)
