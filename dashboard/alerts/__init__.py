"""Alerts: the attention list's rules, evaluated after every snapshot swap and on a clock, and
sent once to the group that must act (rules, store, delivery, command)."""
