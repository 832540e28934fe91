"""Use cases: each opens one session, calls models and the engine, commits.

The UI and the `o2c` command both call these; neither touches SQL directly.
"""
