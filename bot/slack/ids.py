"""Action and callback ids shared by the Block Kit builders and the listeners."""

from bot.domain import request_fields

APPROVE = "signoff_approve"
DENY = "signoff_deny"
CLAIM = "signoff_claim"
# The wire names below stay as they were: messages already in Slack carry them.
JUSTIFIED = "signoff_hindsight_justified"  # a break-glass change, reviewed after the fact
NOT_JUSTIFIED = "signoff_hindsight_not_justified"
REQUEST_FORM = "signoff_request"
BREAK_GLASS_FORM = "signoff_break_glass"
AFTER_THE_FACT_FORM = "signoff_hindsight_note"
DENY_FORM = "signoff_deny_reason"
WORKFLOW_STEP = "request_signoff"  # the Workflow Builder function's callback_id (manifest.yml)

# Block ids of the request form double as field names, so field errors map 1:1.
FORM_FIELDS = request_fields.FORM_FIELDS
