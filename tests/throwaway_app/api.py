from ninja import Router, Schema

from rapport.core.api_schemas import ERRORS

router = Router(tags=["throwaway"])


class Pong(Schema):
    pong: bool


@router.get("/throwaway/ping", response={200: Pong, **ERRORS})
def ping(request):
    return {"pong": True}
