"""LTI 1.3 tables: platform registrations, keys, launch state, link mappings, score outbox.

Kept apart from ``grader.models`` because the LTI wiring evolves on its own; imported
at the end of ``grader.models`` so every table is on one metadata.
"""
