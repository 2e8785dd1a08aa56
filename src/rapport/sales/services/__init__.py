"""Writes for leads, deals and the sales settings: keyword-only, one typed input, one
transaction, events recorded. Split by what they change; import them from here."""

from rapport.sales.services.assignment import (
    assignment_rule_create,
    assignment_rule_delete,
    assignment_rule_move,
    assignment_rule_update,
    choose_owner,
    out_of_office_set,
)
from rapport.sales.services.conversion import Converted, lead_convert
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
from rapport.sales.services.goals import goal_create, goal_delete, goal_update
from rapport.sales.services.leads import Captured, lead_capture, lead_update

# --- mlscore: the learned lead score and deal win probability
from rapport.sales.services.ml import (  # noqa: E402
    deal_model_train,
    deals_win_score,
    lead_model_train,
    leads_ml_score,
    models_train_now,
    retrain_and_score,
)
from rapport.sales.services.opt_in import lead_opt_in_confirm, opt_in_email_queue  # capture
from rapport.sales.services.scoring import leads_rescore, scoring_rule_create, scoring_rule_delete

# --- sequences (nurturing) ---
from rapport.sales.services.sequences import (
    auto_enrol_new_leads,
    lead_enrol,
    lead_unenrol,
    sequence_create,
    sequence_delete,
    sequence_snapshot,
    sequence_step_run,
    sequence_update,
    sequences_run_due,
    stop_for_conversions,
    stop_for_interactions,
)

__all__ = [
    "Captured", "Converted", "EnrichmentProvider", "Facts", "HONEYPOT", "RateLimited",
    "Submission", "assignment_rule_create", "assignment_rule_delete", "assignment_rule_move",
    "choose_owner", "deal_create", "ensure_default_pipeline", "lead_capture", "lead_convert",
    "lead_update", "leads_rescore", "out_of_office_set", "register_provider",
    "scoring_rule_create", "scoring_rule_delete", "unregister_provider", "web_form_create",
    "web_form_delete", "web_form_submit",
    # sequences
    "auto_enrol_new_leads", "lead_enrol", "lead_unenrol", "sequence_create", "sequence_delete",
    "sequence_snapshot", "sequence_step_run", "sequence_update", "sequences_run_due",
    "stop_for_conversions", "stop_for_interactions",
    # goals (forecast)
    "goal_create", "goal_delete", "goal_update",
    # mlscore
    "deal_model_train", "deals_win_score", "lead_model_train", "leads_ml_score",
    "models_train_now", "retrain_and_score",
]
__all__ += ["lead_opt_in_confirm", "opt_in_email_queue"]



# --- pipeline: pipelines, stages, deal changes and moves (issue 10, pipeline) ------------------
from rapport.sales.services.deals import (  # noqa: E402
    closing_stage,
    deal_delete,
    deal_lines_set,
    deal_move,
    deal_update,
    first_open_stage,
)
from rapport.sales.services.pipeline import (  # noqa: E402
    pipeline_create,
    pipeline_delete,
    pipeline_update,
    stage_create,
    stage_delete,
    stage_update,
)

__all__ += [
    "closing_stage", "deal_delete", "deal_lines_set", "deal_move", "deal_update",
    "first_open_stage", "pipeline_create", "pipeline_delete", "pipeline_update", "stage_create",
    "stage_delete", "stage_update",
]

# --- territories, first response (territory branch) --------------------------------------------
from rapport.sales.services.first_response import (  # noqa: E402
    first_response_sweep,
    lead_contact_log,
    lead_touch,
)
from rapport.sales.services.territories import (  # noqa: E402
    territory_create,
    territory_delete,
    territory_for,
    territory_for_deal,
    territory_member_add,
    territory_member_remove,
    territory_move,
    territory_of_lead,
    territory_update,
)

__all__ += [
    "assignment_rule_update", "first_response_sweep", "lead_contact_log", "lead_touch",
    "territory_create", "territory_delete", "territory_for", "territory_for_deal",
    "territory_member_add", "territory_member_remove", "territory_move", "territory_of_lead",
    "territory_update",
]

# --- capture: leads from inbound mail --------------------------------------------------------
from rapport.sales.services.mail_leads import leads_from_mail, mail_lead_candidates  # noqa: E402

__all__ += ["leads_from_mail", "mail_lead_candidates"]
