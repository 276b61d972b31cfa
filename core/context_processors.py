from django.conf import settings


def renfang(request):
    return {"RENFANG_TILE_URL": settings.RENFANG_TILE_URL, "RENFANG_DEBUG": settings.DEBUG}
