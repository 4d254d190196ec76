"""Resolution prompts: who is asked to resolve what, when, and the email that asks them.

- ``settings``: ``[review]`` (quorum, reprompt_days, require_evidence).
- ``plan``: pure rules over plain data: why a question is listed, who gets it, cadence.
- ``models``: the ``review_prompt`` log the cadence reads.
- ``prompts``: ``send_prompts(runtime, as_of=..., dry_run=...)``, the one call the CLI and
  the scheduler make.
"""
