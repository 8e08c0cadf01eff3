"""Journeys, trigger rules, playbooks and email templates (see the automations issue)."""
