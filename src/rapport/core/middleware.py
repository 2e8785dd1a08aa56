from django.conf import settings
from django.http import JsonResponse


class BodySizeLimitMiddleware:
    """Refuse oversized bodies with 413 before anything reads them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        content_type = request.META.get("CONTENT_TYPE", "")
        limit = (
            settings.RAPPORT_MAX_UPLOAD_BYTES
            if content_type.startswith("multipart/")
            else settings.RAPPORT_MAX_BODY_BYTES
        )
        if length > limit:
            return JsonResponse(
                {"detail": f"request body too large: {length} bytes, limit {limit}"}, status=413
            )
        return self.get_response(request)
