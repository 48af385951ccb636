"""Accounts: people, their passwords and roles, and their signed-in sessions."""
