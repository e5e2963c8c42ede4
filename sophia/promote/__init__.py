"""Day-two changes: image versions, promotion between environments, rollback (see command.py)."""
