"""Retention: when a compound's consultation ended, and purging its residents' personal data after that."""
