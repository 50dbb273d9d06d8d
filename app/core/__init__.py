"""The kernel: the one way to change state (`fire`, with its transition hooks), the audit
trail, the document store, the deadlines in force, the timing read model and paging.

Every feature package calls into here; nothing here imports a feature package (the hook
modules are listed by name in `transition_hooks.HOOK_MODULES`).
"""
