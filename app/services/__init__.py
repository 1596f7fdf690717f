"""Domain services: plain functions that check, change and flush; callers commit."""
