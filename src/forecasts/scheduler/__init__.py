"""The scheduler: ``forecasts run`` keeps the tracker going (news, prompts, the digest and
the report, each on its own schedule). See docs/deploy.md."""
