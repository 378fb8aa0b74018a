"""Build small Scenario objects in tests, independent of the built-in files."""

from __future__ import annotations

from typing import Any

from simulator.scenario import Scenario


def make_scenario(**overrides: Any) -> Scenario:
    """A valid English scenario; ``overrides`` replace top-level fields (dicts are merged one level)."""
    data: dict[str, Any] = {
        "id": "test-bill",
        "lang": "en",
        "title": "Bill jumped",
        "summary": "A water bill five times higher than usual.",
        "sector": "water utility",
        "difficulty": 2,
        "briefing": {"role": "Service officer", "setting": "Counter", "goal": "Find the cause and fix it."},
        "persona": {
            "name": "Mr Hadi",
            "temperament": "angry",
            "mood": {"anger": 7, "trust": 2, "threat": 0},
            "speaking_style": "curt",
        },
        "opening": "My bill is 500 thousand! It is usually 80!",
        "problem_cues": ["bill", "500"],
        "hidden_facts": [
            {"id": "meter", "reveal": "The meter reader never came.", "asked_by": ["meter", "reading"], "is_cause": True},
            {"id": "since", "reveal": "It started in March.", "asked_by": ["since when", "when did"]},
        ],
        "fault": "institution",
        "handling": {"compensation_due": True, "time_frame": "within 3 working days", "max_days": 7},
        "learning_points": ["Check the meter history first."],
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return Scenario.model_validate(data)
