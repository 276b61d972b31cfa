"""The API's page size rules (kept apart from core.api: DRF imports it while it loads its own views)."""

from rest_framework.pagination import PageNumberPagination

__all__ = ["Pagination"]


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500
