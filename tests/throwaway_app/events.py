from rapport.core.events import EventKind, NewEvent

POKED = EventKind("throwaway.poked", "Poked", "throwaway/poked.html")


def poked(*, contact_id: int, actor_id: int, how: str) -> NewEvent:
    return NewEvent(kind=POKED.name, entity_type="contact", entity_id=contact_id,
                    contact_id=contact_id, actor_id=actor_id, after={"how": how})
