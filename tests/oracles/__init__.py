"""Slow, obviously-correct Python ports of the official algorithms (test oracles and bench baselines)."""
