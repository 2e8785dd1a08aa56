from ninja import Router

router = Router(tags=["throwaway"])


@router.get("/throwaway/ping")
def ping(request):
    return {"pong": True}
