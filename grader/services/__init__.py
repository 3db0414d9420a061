"""Use cases on a Session: the only layer that commits.

Each function takes the Session first and raises ``grader.errors`` subclasses for
refusals, so the web layer, the JSON API, the CLI and tests share one set of rules.
"""
