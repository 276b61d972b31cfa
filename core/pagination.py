"""The API's page size rules (kept apart from core.api: DRF imports it while it loads its own views).

``page`` and ``page_size`` are not filters: an empty or non-numeric value is a 400 naming the parameter (DRF would
silently answer page 1 at the default size), never "no value". ``page=last`` is the last page, a page past the end
is a 404, and a page size above ``max_page_size`` is cut to it.
"""

import re

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

__all__ = ["Pagination"]

_POSITIVE = re.compile(r"[1-9]\d{0,17}")


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not _POSITIVE.fullmatch(raw.strip()):
            raise ValidationError({self.page_size_query_param: [
                _("每页条数必须是 1 到 %(max)d 之间的整数") % {"max": self.max_page_size}]})
        return min(int(raw), self.max_page_size)

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if raw in self.last_page_strings:
            return paginator.num_pages
        if not _POSITIVE.fullmatch(raw.strip()):
            raise ValidationError({self.page_query_param: [_("页码必须是正整数")]})
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = f"{parameter['description']} (1–{self.max_page_size}; more is cut to " \
                                           f"{self.max_page_size})"
        return parameters
