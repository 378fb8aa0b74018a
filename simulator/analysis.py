"""The stable import path of the turn analyser (the package is simulator/understanding/)."""

from simulator.understanding.analyser import Engine, TagDecision, analyze, engine, explain, warm

__all__ = ["Engine", "TagDecision", "analyze", "engine", "explain", "warm"]
