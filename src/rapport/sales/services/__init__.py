"""Writes for leads, deals and the sales settings: keyword-only, one typed input, one
transaction, events recorded. Split by what they change; import them from here."""

from rapport.sales.services.assignment import (
    assignment_rule_create,
    assignment_rule_delete,
    assignment_rule_move,
    choose_owner,
    out_of_office_set,
)
from rapport.sales.services.conversion import Converted, lead_convert
from rapport.sales.services.deal_history import deal_history_load  # capture (demo history)
from rapport.sales.services.deals import deal_create, ensure_default_pipeline
from rapport.sales.services.enrichment import (
    EnrichmentProvider,
    Facts,
    register_provider,
    unregister_provider,
)
from rapport.sales.services.forms import (
    HONEYPOT,
    RateLimited,
    Submission,
    web_form_create,
    web_form_delete,
    web_form_submit,
)
from rapport.sales.services.leads import Captured, lead_capture, lead_update
from rapport.sales.services.opt_in import lead_opt_in_confirm, opt_in_email_queue  # capture
from rapport.sales.services.scoring import leads_rescore, scoring_rule_create, scoring_rule_delete

__all__ = [
    "Captured", "Converted", "EnrichmentProvider", "Facts", "HONEYPOT", "RateLimited",
    "Submission", "assignment_rule_create", "assignment_rule_delete", "assignment_rule_move",
    "choose_owner", "deal_create", "ensure_default_pipeline", "lead_capture", "lead_convert",
    "lead_update", "leads_rescore", "out_of_office_set", "register_provider",
    "scoring_rule_create", "scoring_rule_delete", "unregister_provider", "web_form_create",
    "web_form_delete", "web_form_submit",
]
__all__ += ["deal_history_load", "lead_opt_in_confirm", "opt_in_email_queue"]
